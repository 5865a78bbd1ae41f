"""The onnx and tensorflow runtimes, against real replicas: models, handlers, errors, S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import yaml

from tests.helpers.examples import copy_example
from tests.helpers.onnx_models import write_two_inputs
from tests.helpers.predictor_process import Predictor, request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLE = {"sepal_length": 5.2, "sepal_width": 3.6, "petal_length": 1.4, "petal_width": 0.3}


def _project(root: Path, apis: list[dict]) -> Path:
    """The iris-onnx example plus more APIs in its cortex.yaml."""
    copy_example("iris-onnx", root.parent, root.name)
    write_two_inputs(root / "models" / "two.onnx")
    entries = yaml.safe_load((root / "cortex.yaml").read_text()) + apis
    (root / "cortex.yaml").write_text(yaml.safe_dump(entries, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Predictor]]:
    """One replica per API of one project, started together."""
    root = _project(tmp_path_factory.mktemp("onnx") / "proj", [
        {"kind": "api", "name": "bare", "onnx": {"model": "models/iris.onnx"}},
        {"kind": "api", "name": "two", "onnx": {
            "model": "models/two.onnx",
            "server_side_batching": {"max_batch_size": 4, "batch_interval": "200ms"}}},
    ])
    started = {name: Predictor(root, name, admin_port=0)
               for name in ("iris-onnx", "bare", "two")}
    try:
        yield {name: proc.wait_ready() for name, proc in started.items()}
    finally:
        for proc in started.values():
            proc.kill()


def test_the_example_answers_through_its_handlers_and_tracks_after_post(
        replicas: dict[str, Predictor]) -> None:
    iris = replicas["iris-onnx"]
    resp = iris.post(SAMPLE)
    assert resp.status == 200
    body = resp.json()
    assert body["label"] == "setosa"
    assert set(body["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert iris.post(SAMPLE, "/iris-onnx").json()["label"] == "setosa"
    assert iris.stats()["class_distribution"] == {"setosa": 2}


def test_without_handlers_the_answer_is_every_output(replicas: dict[str, Predictor]) -> None:
    resp = replicas["bare"].post([[5.2, 3.6, 1.4, 0.3], [6.9, 3.1, 5.4, 2.1]])
    labels, probabilities = resp.json()
    assert labels == ["setosa", "virginica"]
    assert len(probabilities) == 2 and probabilities[1]["virginica"] > 0.5  # ZipMap kept
    # one row: the batch axis is added; the input by its name in an object works too
    assert replicas["bare"].post([5.2, 3.6, 1.4, 0.3]).json()[0] == ["setosa"]
    assert replicas["bare"].post({"input": [5.2, 3.6, 1.4, 0.3]}).json()[0] == ["setosa"]


def test_several_inputs_take_an_object_keyed_by_name(replicas: dict[str, Predictor]) -> None:
    two = replicas["two"]
    assert two.post({"a": [0.5, 1.5], "b": [1, 2]}).json() == [[[1.5, 3.5]]]
    missing = two.post({"a": [0.5, 1.5]})
    assert missing.status == 400
    assert 'input "b": missing from the sample (expected shape [None, 2] int64)' in (
        missing.json()["error"])
    assert two.post([1, 2]).status == 400


def test_a_batch_is_one_model_call_and_a_bad_sample_fails_alone(
        replicas: dict[str, Predictor]) -> None:
    two = replicas["two"]
    before = two.stats()["batching"]["batches"]
    samples = [{"a": [i, i], "b": [1, 1]} for i in range(3)] + [{"a": [1.0, 2.0]}]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(two.post, samples))
    assert [a.status for a in answers] == [200, 200, 200, 400]
    assert [a.json() for a in answers[:3]] == [[[[1.0, 1.0]]], [[[2.0, 2.0]]], [[[3.0, 3.0]]]]
    assert 'input "b": missing' in answers[3].json()["error"]
    assert two.stats()["batching"]["batches"] - before < 4  # gathered, not one call each


def test_samples_that_do_not_fit_are_400s_naming_the_input(
        replicas: dict[str, Predictor]) -> None:
    bare = replicas["bare"]
    shape = bare.post([1.0, 2.0, 3.0])
    assert shape.status == 400
    assert 'input "input": expected shape [None, 4] float32 (got shape [1, 3])' in (
        shape.json()["error"])
    dtype = bare.post(["a", "b", "c", "d"])
    assert dtype.status == 400 and 'input "input": cannot be read as float32' in (
        dtype.json()["error"])
    wrong_key = bare.post({"x": [1, 2, 3, 4]})
    assert wrong_key.status == 400 and 'input "input": missing from the sample object' in (
        wrong_key.json()["error"])
    assert bare.post(SAMPLE).status == 400  # the example's object needs its pre handler
    handler = replicas["iris-onnx"].post({"sepal_length": 1})
    assert handler.status == 400 and "missing measurements: sepal_width" in (
        handler.json()["error"])


def test_a_handlers_exception_is_a_500_with_its_line(replicas: dict[str, Predictor]) -> None:
    iris = replicas["iris-onnx"]
    resp = iris.post({**SAMPLE, "petal_width": "wide"})  # float("wide") in pre_inference
    assert resp.status == 500
    assert resp.json()["error"] == (
        "prediction failed: ValueError: could not convert string to float: 'wide'")
    iris.wait_line(r"handler\.py:20 in pre_inference")


def test_signature_on_every_replica(replicas: dict[str, Predictor]) -> None:
    assert replicas["iris-onnx"].get("/signature").json() == {
        "signature": {"input": {"shape": [None, 4], "type": "float32"}}}
    two = replicas["two"]
    assert two.get("/signature", two.admin_port).json()["signature"] == {
        "a": {"shape": [None, 2], "type": "float32"},
        "b": {"shape": [None, 2], "type": "int64"}}


def test_debug_logs_every_stage(replicas: dict[str, Predictor]) -> None:
    iris = replicas["iris-onnx"]
    resp = request(iris.port or 0, "POST", "/predict?debug=true", json.dumps(SAMPLE))
    assert resp.status == 200
    iris.wait_line(r"debug: post_inference: \{\"label\": \"setosa\"")
    lines = iris.output.splitlines()
    order = [next(i for i, line in enumerate(lines) if f"debug: {stage}: " in line)
             for stage in ("sample", "pre_inference", "inference", "post_inference")]
    assert order == sorted(order)
    assert "debug: pre_inference: [5.2, 3.6, 1.4, 0.3]" in lines[order[1]]
    assert 'debug: inference: [["setosa"], [{"setosa": ' in lines[order[2]]


def test_a_model_from_s3_is_downloaded_once_per_etag(moto_url: str, tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_url,
           "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "CORTEX_MODEL_CACHE": str(tmp_path / "cache")}
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="runtime-models")
    s3.upload_file(str(EXAMPLES / "iris-onnx" / "models" / "iris.onnx"), "runtime-models",
                   "iris/v1.onnx")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "cortex.yaml").write_text(
        "- kind: api\n  name: s3-iris\n  onnx: {model: 's3://runtime-models/iris/v1.onnx'}\n")
    for expected in ("downloaded", "cached copy"):
        replica = Predictor(root, "s3-iris", env=env)
        try:
            replica.wait_ready()
            assert replica.post([5.2, 3.6, 1.4, 0.3]).json()[0] == ["setosa"]
            assert replica.find(f"model s3://runtime-models/iris/v1.onnx: {expected}")
        finally:
            replica.kill()
    assert len(list((tmp_path / "cache").rglob("v1.onnx"))) == 1


def test_a_missing_s3_model_stops_the_replica_with_a_clear_line(
        moto_url: str, tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_url,
           "CORTEX_MODEL_CACHE": str(tmp_path / "cache")}
    root = tmp_path / "proj"
    root.mkdir()
    (root / "cortex.yaml").write_text(
        "- kind: api\n  name: gone\n  onnx: {model: 's3://no-such-bucket-here/m.onnx'}\n")
    replica = Predictor(root, "gone", env=env)
    assert replica.wait_exit() == 1
    assert replica.find(r"ERROR .*s3://no-such-bucket-here/m\.onnx: the model cannot be "
                        r"downloaded: ClientError")
