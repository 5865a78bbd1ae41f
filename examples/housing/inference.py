"""House price regression: ordinary least squares in pure Python.

init() fits price_k = b0 + b1*rooms + b2*area_m2 + b3*age_years + b4*distance_km on
housing.csv beside this file (normal equations, solved by Gaussian elimination);
predict() is then one dot product.
"""

import csv
from pathlib import Path

FEATURES = ("rooms", "area_m2", "age_years", "distance_km")
TARGET = "price_k"

_coefficients: tuple[float, ...] = ()  # intercept first, then one per feature


class BadSample(ValueError):
    """A sample the model cannot read: the replica answers 400 with this message."""

    status_code = 400


def init(metadata):
    global _coefficients
    data_file = Path(__file__).parent / metadata.get("data_file", "housing.csv")
    with data_file.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    xs = [[1.0, *(float(row[f]) for f in FEATURES)] for row in rows]
    ys = [float(row[TARGET]) for row in rows]
    size = len(FEATURES) + 1
    # Normal equations (X^T X) b = X^T y, as an augmented matrix.
    matrix = [
        [sum(x[i] * x[j] for x in xs) for j in range(size)]
        + [sum(x[i] * y for x, y in zip(xs, ys, strict=True))]
        for i in range(size)
    ]
    _coefficients = tuple(_solve(matrix))


def _solve(matrix):
    """Gaussian elimination with partial pivoting on an n x (n+1) augmented matrix."""
    n = len(matrix)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(matrix[r][col]))
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        for row in range(col + 1, n):
            factor = matrix[row][col] / matrix[col][col]
            for k in range(col, n + 1):
                matrix[row][k] -= factor * matrix[col][k]
    solution = [0.0] * n
    for row in reversed(range(n)):
        rest = sum(matrix[row][k] * solution[k] for k in range(row + 1, n))
        solution[row] = (matrix[row][n] - rest) / matrix[row][row]
    return solution


def predict(sample, metadata):
    try:
        x = [float(sample[name]) for name in FEATURES]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadSample(f"expected a JSON object with the numbers {', '.join(FEATURES)}") from exc
    b = _coefficients
    price = b[0] + b[1] * x[0] + b[2] * x[1] + b[3] * x[2] + b[4] * x[3]
    return round(max(price, 0.0), 2)
