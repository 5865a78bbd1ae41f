"""Build models/iris.onnx: a logistic regression fitted on iris.csv, converted with skl2onnx.

    pip install scikit-learn skl2onnx
    python build_model.py

Only needed to rebuild the model: the small iris.onnx it writes is committed.
"""

import csv
from pathlib import Path

import numpy as np
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).parent
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def main() -> None:
    with (HERE / "iris.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    features = np.array([[float(row[f]) for f in FEATURES] for row in rows], dtype=np.float32)
    species = np.array([row["species"] for row in rows])
    model = LogisticRegression(max_iter=1000).fit(features, species)
    onnx_model = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 4]))],
                                 target_opset={"": 17, "ai.onnx.ml": 3})
    target = HERE / "models" / "iris.onnx"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(onnx_model.SerializeToString())
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
