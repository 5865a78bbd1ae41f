"""Iris flower classifier: Gaussian naive Bayes in pure Python.

The model is trained once per replica, in init(), from iris.csv beside this file (150 flowers,
3 species): per species, the mean and variance of each measurement. predict() then costs a few
microseconds.
"""

import csv
import math
from pathlib import Path

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")

# Filled by init(): per species, (log prior, means, 1 / (2 * variance), log-normaliser).
_model: dict[str, tuple[tuple[float, ...], tuple[float, ...], float]] = {}


class BadSample(ValueError):
    """A sample the model cannot read: the replica answers 400 with this message."""

    status_code = 400


def init(metadata):
    data_file = Path(__file__).parent / metadata.get("data_file", "iris.csv")
    with data_file.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_species: dict[str, list[list[float]]] = {}
    for row in rows:
        by_species.setdefault(row["species"], []).append([float(row[f]) for f in FEATURES])
    _model.clear()
    for species, samples in by_species.items():
        n = len(samples)
        means = [sum(s[j] for s in samples) / n for j in range(len(FEATURES))]
        variances = [
            sum((s[j] - means[j]) ** 2 for s in samples) / n + 1e-3 for j in range(len(FEATURES))
        ]
        constant = math.log(n / len(rows)) - 0.5 * sum(math.log(2 * math.pi * v) for v in variances)
        _model[species] = (tuple(means), tuple(1 / (2 * v) for v in variances), constant)


def predict(sample, metadata):
    try:
        x0, x1, x2, x3 = (float(sample[name]) for name in FEATURES)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadSample(f"expected a JSON object with the numbers {', '.join(FEATURES)}") from exc
    log_likelihood = {}
    for species, (m, w, constant) in _model.items():
        log_likelihood[species] = constant - (
            (x0 - m[0]) ** 2 * w[0] + (x1 - m[1]) ** 2 * w[1]
            + (x2 - m[2]) ** 2 * w[2] + (x3 - m[3]) ** 2 * w[3]
        )
    best = max(log_likelihood, key=log_likelihood.__getitem__)
    top = log_likelihood[best]
    weights = {k: math.exp(v - top) for k, v in log_likelihood.items()}
    total = sum(weights.values())
    return {"label": best, "scores": {k: round(v / total, 4) for k, v in weights.items()}}
