from model import predict_all


def predict(samples, metadata):  # server_side_batching: a list of samples per call
    return predict_all(samples)
