"""The shipped examples validate and their models really work."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from cortex_tui.config import load_project
from tests.config.conftest import EXAMPLES


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_iris_loads_with_its_tracker_and_defaults() -> None:
    project = load_project(EXAMPLES / "iris")
    spec = project.api("iris-classifier")
    assert project.deployment_name == "iris"
    assert spec.tracker is not None and spec.tracker.model_type == "classification"
    assert spec.tracker.key == "label"
    assert spec.compute.cpu == Decimal("0.2")
    assert spec.compute.queue_size == 128
    assert spec.inference == "inference.py"


def test_housing_loads_as_a_regression_with_a_deployment_name() -> None:
    project = load_project(EXAMPLES / "housing" / "cortex.yaml")
    spec = project.api("housing-regressor")
    assert project.deployment_name == "housing"
    assert spec.tracker is not None and spec.tracker.model_type == "regression"
    assert (spec.compute.min_replicas, spec.compute.init_replicas) == (1, 2)
    assert spec.compute.cpu == Decimal("0.25")


def test_iris_model_classifies_its_sample_and_most_of_its_data() -> None:
    project = load_project(EXAMPLES / "iris")
    spec = project.api("iris-classifier")
    module = _module(project.root / spec.inference)
    module.init(dict(spec.metadata))
    sample = json.loads((project.root / "sample.json").read_text())
    answer = module.predict(sample, dict(spec.metadata))
    assert answer["label"] == "setosa"
    assert set(answer["scores"]) == {"setosa", "versicolor", "virginica"}
    rows = (project.root / "iris.csv").read_text().splitlines()[1:]
    right = 0
    for row in rows:
        *numbers, species = row.split(",")
        names = ("sepal_length", "sepal_width", "petal_length", "petal_width")
        flower = dict(zip(names, map(float, numbers), strict=True))
        right += module.predict(flower, {})["label"] == species
    assert right / len(rows) > 0.9


def test_iris_rejects_a_bad_sample_with_status_400() -> None:
    module = _module(EXAMPLES / "iris" / "inference.py")
    module.init({})
    with pytest.raises(ValueError) as caught:
        module.predict({"sepal_length": "x"}, {})
    assert caught.value.status_code == 400


def test_housing_model_predicts_a_plausible_price() -> None:
    project = load_project(EXAMPLES / "housing")
    module = _module(project.root / "inference.py")
    module.init(dict(project.api("housing-regressor").metadata))
    sample = json.loads((project.root / "sample.json").read_text())
    price = module.predict(sample, {})
    assert isinstance(price, float)
    bigger = module.predict({**sample, "area_m2": sample["area_m2"] + 40}, {})
    assert 50 < price < bigger


def test_iris_onnx_and_iris_tensorflow_validate_with_their_handlers() -> None:
    onnx = load_project(EXAMPLES / "iris-onnx").api("iris-onnx")
    assert (onnx.runtime, onnx.model, onnx.request_handler) == (
        "onnx", "models/iris.onnx", "handler.py")
    tf = load_project(EXAMPLES / "iris-tensorflow").api("iris-tf")
    assert (tf.runtime, tf.model, tf.signature_key) == (
        "tensorflow", "models/iris-tf", "serving_default")
    assert tf.tracker is not None and tf.tracker.key == "label"
