"""The tensorflow runtime against one real replica of examples/iris-tensorflow (TensorFlow
takes seconds to import: every test shares the replica), with server_side_batching on, so the
batched path is covered here and the plain one by the onnx tests (the same pipeline). Needs
the [tensorflow] extra."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.examples import copy_example
from tests.helpers.predictor_process import Predictor, request

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-tensorflow"
SAMPLE = json.loads((EXAMPLE / "sample.json").read_text())

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason="needs pip install 'cortex-tui[tensorflow]'")


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Predictor]:
    root = copy_example(EXAMPLE.name, tmp_path_factory.mktemp("tf"), "proj")
    config = root / "cortex.yaml"
    config.write_text(config.read_text().replace(
        "    request_handler: handler.py",
        "    request_handler: handler.py\n"
        "    server_side_batching: {max_batch_size: 8, batch_interval: 100ms}"))
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


def test_concurrent_samples_share_a_model_call_and_a_bad_one_fails_alone(
        replica: Predictor) -> None:
    before = replica.stats()["batching"]["batches"]
    flowers = [SAMPLE, {**SAMPLE, "petal_length": 5.5, "petal_width": 2.1}, {"sepal_length": 1}]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(replica.post, flowers))
    assert [a.status for a in answers] == [200, 200, 400]
    assert [a.json()["label"] for a in answers[:2]] == ["setosa", "virginica"]
    assert replica.stats()["batching"]["batches"] - before < 3


def test_signature_and_shape_errors(replica: Predictor) -> None:
    assert replica.get("/signature").json() == {
        "signature": {"measurements": {"shape": [None, 4], "type": "float32"}}}
    resp = replica.post({"sepal_length": "x", "sepal_width": 1, "petal_length": 1,
                         "petal_width": 1})
    assert resp.status == 500  # the handler's float() raised: its own error
    replica.wait_line(r"handler\.py:\d+ in pre_inference")
