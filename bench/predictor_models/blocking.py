import time


def predict(sample, metadata):
    time.sleep(0.02)  # a model call that blocks 20 ms (releases the GIL, like most C code)
    return {"ok": True}
