"""Request handler of the iris-onnx API: a flower's measurements in, its species out."""

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


class BadSample(ValueError):
    """A sample the model cannot read: the replica answers 400 with this message."""

    status_code = 400


def pre_inference(sample, signature, metadata):
    """{"sepal_length": 5.2, ...} -> [5.2, 3.6, 1.4, 0.3] for the model's input.

    The model takes shape [batch, 4]: the replica adds the batch axis to a single row.
    """
    missing = [name for name in FEATURES if name not in sample]
    if missing:
        raise BadSample(f"missing measurements: {', '.join(missing)}")
    return [float(sample[name]) for name in FEATURES]


def post_inference(prediction, signature, metadata):
    """[labels, probabilities] (the model's two outputs) -> {"label", "probabilities"}."""
    labels, probabilities = prediction
    return {"label": labels[0], "probabilities": probabilities[0]}
