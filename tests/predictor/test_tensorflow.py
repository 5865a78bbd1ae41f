"""The tensorflow runtime against one real replica of examples/iris-tensorflow (TensorFlow
takes seconds to import: every test shares the replica). Needs the [tensorflow] extra."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.predictor_process import Predictor, request

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-tensorflow"
SAMPLE = json.loads((EXAMPLE / "sample.json").read_text())

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason="needs pip install 'cortex-tui[tensorflow]'")


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Predictor]:
    root = Path(shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("tf") / "proj"))
    proc = Predictor(root, "iris-tf", env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        yield proc.wait_ready(timeout=120)  # importing TensorFlow on a busy machine
    finally:
        proc.kill()


def test_the_example_answers_through_its_handlers_and_tracks_after_post(
        replica: Predictor) -> None:
    resp = replica.post(SAMPLE)
    assert resp.status == 200
    assert resp.json()["label"] == "setosa"
    assert replica.stats()["class_distribution"] == {"setosa": 1}


def test_outputs_keep_their_shapes_by_name(replica: Predictor) -> None:
    resp = request(replica.port or 0, "POST", "/predict?debug=true", json.dumps(SAMPLE))
    assert resp.status == 200
    line = replica.wait_line(r"debug: inference: (\{.*)").group(1)
    outputs = json.loads(line)
    assert outputs["class_index"] == [0]
    assert len(outputs["scores"]) == 1 and len(outputs["scores"][0]) == 3  # [batch, 3]


def test_signature_and_shape_errors(replica: Predictor) -> None:
    assert replica.get("/signature").json() == {
        "signature": {"measurements": {"shape": [None, 4], "type": "float32"}}}
    resp = replica.post({"sepal_length": "x", "sepal_width": 1, "petal_length": 1,
                         "petal_width": 1})
    assert resp.status == 500  # the handler's float() raised: its own error
    replica.wait_line(r"handler\.py:\d+ in pre_inference")
