"""The JSON contracts of the request path (issues 20, 13, 16), against a real replica with numpy.

Bodies in any UTF encoding, NaN refused both ways, numpy values and numpy-keyed dicts converted,
absurd nesting a 400, and a body whose parsed objects would not fit the replica's memory
refused with 413 before it is parsed.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.predictor_process import Predictor, make_project, request

MODEL = """
import numpy as np


def predict(sample, metadata):
    kind = sample.get("kind") if isinstance(sample, dict) else None
    if kind == "proba":  # dict(zip(model.classes_, proba)): numpy integer keys
        return dict(zip(np.array([3, 7]), np.array([0.25, 0.75])))
    if kind == "nan":
        return {"score": float("nan")}
    if kind == "nan-array":
        return {"scores": np.array([1.0, np.nan])}
    if kind == "inf-scalar":
        return np.float64("inf")
    if kind == "arrays":
        return {"a": np.arange(3), "b": np.float32(1.5), "c": np.arange(4).reshape(2, 2)[:, 0],
                "none": None}
    if kind == "big":
        return {"n": 2 ** 70}
    return sample
"""


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory):
    # mem 64Mi: bodies up to 4Mi by default, parsed objects up to 16Mi.
    root = make_project(tmp_path_factory.mktemp("codec") / "p", MODEL, api="codec",
                        compute={"mem": "64Mi"})
    proc = Predictor(root, api="codec").wait_ready()
    yield proc
    proc.kill()


def test_numpy_keyed_dicts_are_answered_with_string_keys(replica: Predictor) -> None:
    resp = replica.post({"kind": "proba"})
    assert resp.status == 200, resp
    assert resp.json() == {"3": 0.25, "7": 0.75}


def test_numpy_arrays_and_scalars_are_converted(replica: Predictor) -> None:
    resp = replica.post({"kind": "arrays"})
    assert resp.status == 200, resp
    assert resp.json() == {"a": [0, 1, 2], "b": 1.5, "c": [0, 2], "none": None}
    assert replica.post({"kind": "big"}).json() == {"n": 2 ** 70}  # past 64 bits, exact


@pytest.mark.parametrize("kind", ["nan", "nan-array", "inf-scalar"])
def test_nan_in_a_prediction_is_a_500_naming_it_never_a_null(replica: Predictor,
                                                             kind: str) -> None:
    resp = replica.post({"kind": kind})
    assert resp.status == 500, resp
    assert resp.json()["error"] == ("prediction not serialisable: ValueError: Out of range "
                                    "float values are not JSON compliant")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_a_body_in_any_utf_encoding_is_read(replica: Predictor, encoding: str) -> None:
    body = json.dumps({"text": "héllo ☃"}, ensure_ascii=False).encode(encoding)
    resp = request(replica.port, "POST", "/predict", body)
    assert resp.status == 200, resp
    assert resp.json() == {"text": "héllo ☃"}


def test_json_nested_100k_deep_is_a_400(replica: Predictor) -> None:
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        resp = request(replica.port, "POST", "/predict", body)
        assert resp.status == 400, resp
        assert resp.json() == {"error": "malformed json: nested more than 1024 levels deep"}


def test_a_body_too_large_once_parsed_is_a_413_and_the_replica_keeps_serving(
        replica: Predictor) -> None:
    # 1 MiB of empty objects would be ~25 MiB of Python objects, over the 16Mi budget.
    body = "[" + ",".join(["{}"] * 350_000) + "]"
    refused = replica.get("/stats").json()["network_stats"]["code_4xx"]
    for _ in range(4):
        resp = request(replica.port, "POST", "/predict", body)
        assert resp.status == 413, resp
        assert resp.json()["error"].startswith("request body too large once parsed: about ")
        assert resp.json()["error"].endswith("the limit is 16 MiB")
    # A body as large made of one string costs its size: it passes.
    resp = request(replica.port, "POST", "/predict", json.dumps({"text": "a" * 1_000_000}))
    assert resp.status == 200
    assert replica.get("/stats").json()["network_stats"]["code_4xx"] == refused + 4
