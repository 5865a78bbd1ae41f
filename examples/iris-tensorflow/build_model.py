"""Build models/iris-tf/1: a tiny TensorFlow SavedModel classifying iris flowers.

    pip install 'cortex-tui[tensorflow]'
    python build_model.py

A nearest-centroid classifier: the mean of each species' measurements in iris.csv, and a
`serving_default` signature taking `measurements` ([batch, 4] float32) and returning `scores`
(minus the squared distance to each species, [batch, 3]) and `class_index` ([batch]). Only
needed to rebuild the model: the small SavedModel it writes is committed.
"""

import csv
from pathlib import Path

import numpy as np
import tensorflow as tf

HERE = Path(__file__).parent
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
SPECIES = ("setosa", "versicolor", "virginica")


class NearestCentroid(tf.Module):
    def __init__(self, centroids: np.ndarray) -> None:
        super().__init__()
        self.centroids = tf.Variable(centroids, dtype=tf.float32, trainable=False)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="measurements")])
    def serve(self, measurements: tf.Tensor) -> dict[str, tf.Tensor]:
        distances = tf.reduce_sum(
            tf.square(measurements[:, tf.newaxis, :] - self.centroids[tf.newaxis]), axis=-1)
        scores = -distances
        return {"scores": scores, "class_index": tf.argmax(scores, axis=1)}


def main() -> None:
    with (HERE / "iris.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    centroids = np.array([
        np.mean([[float(r[f]) for f in FEATURES] for r in rows if r["species"] == name], axis=0)
        for name in SPECIES
    ], dtype=np.float32)
    module = NearestCentroid(centroids)
    target = HERE / "models" / "iris-tf" / "1"
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.serve})
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
