"""Request handler of the iris-tensorflow API: a flower's measurements in, its species out."""

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
SPECIES = ("setosa", "versicolor", "virginica")


class BadSample(ValueError):
    """A sample the model cannot read: the replica answers 400 with this message."""

    status_code = 400


def pre_inference(sample, signature, metadata):
    """{"sepal_length": 5.2, ...} -> {"measurements": [5.2, 3.6, 1.4, 0.3]}.

    The signature's input is [batch, 4]: the replica adds the batch axis to a single row.
    """
    missing = [name for name in FEATURES if name not in sample]
    if missing:
        raise BadSample(f"missing measurements: {', '.join(missing)}")
    return {"measurements": [float(sample[name]) for name in FEATURES]}


def post_inference(prediction, signature, metadata):
    """{"scores": [[...]], "class_index": [i]} -> {"label": species, "scores": {...}}."""
    index = int(prediction["class_index"][0])
    scores = dict(zip(SPECIES, prediction["scores"][0].tolist(), strict=True))
    return {"label": SPECIES[index], "scores": scores}
