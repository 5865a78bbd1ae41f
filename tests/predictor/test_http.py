"""SPEC §4: every row of a replica's HTTP table, against a real predictor process."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.predictor_process import Predictor, request
from tests.helpers.waiting import wait_until

MODEL = """
import json
from http import HTTPStatus

calls = 0


class Teapot(Exception):
    status_code = 418


class BadStatus(Exception):
    status_code = 200


class EnumStatus(Exception):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY


class BoolStatus(Exception):
    status_code = True


class ArrayLike:  # what numpy arrays and scalars look like to the encoder
    def tolist(self):
        return [1, 2, 3]


class BrokenArray:
    def tolist(self):
        raise RuntimeError("cannot convert")


def predict(sample, metadata):
    global calls
    calls += 1
    print("predict called", calls, flush=True)
    action = sample.get("action") if isinstance(sample, dict) else None
    if action == "calls":
        return calls
    if action == "boom":
        raise ValueError("it broke")
    if action == "exit":
        raise SystemExit(3)
    if action == "interrupt":
        raise KeyboardInterrupt
    if action == "cancelled":
        import asyncio
        raise asyncio.CancelledError("gave up")
    if action == "enum-status":
        raise EnumStatus("field missing")
    if action == "bool-status":
        raise BoolStatus("x")
    if action == "teapot":
        raise Teapot("short and stout")
    if action == "bad-status":
        raise BadStatus("not an error status")
    if action == "unserialisable":
        return {"value": object()}
    if action == "array":
        return {"array": ArrayLike()}
    if action == "bad-array":
        return {"array": BrokenArray()}
    if action == "long":
        return {"text": "x" * 5000}
    return sample
"""


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory):
    from tests.helpers.predictor_process import make_project

    root = make_project(tmp_path_factory.mktemp("http") / "p", MODEL, api="echo-api",
                        tracker={"model_type": "classification", "key": "label"},
                        compute={"max_body_size": 4096})
    proc = Predictor(root, api="echo-api").wait_ready()
    yield proc
    proc.kill()


def test_predict_and_api_name_routes_return_the_prediction(replica: Predictor) -> None:
    for path in ("/predict", "/echo-api"):
        resp = replica.post({"label": "cat", "n": [1, 2]}, path)
        assert resp.status == 200
        assert resp.headers["content-type"] == "application/json"
        assert resp.json() == {"label": "cat", "n": [1, 2]}
    # Any JSON value is a sample, and the answer is unwrapped.
    assert replica.post("plain string").json() == "plain string"
    assert replica.post(42).json() == 42
    assert replica.post(None).json() is None


def test_body_is_json_whatever_the_content_type(replica: Predictor) -> None:
    for ctype in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {"Content-Type": ctype} if ctype else {}
        resp = request(replica.port, "POST", "/predict", '{"label": "form"}', headers)
        assert resp.status == 200, resp
        assert resp.json() == {"label": "form"}


def test_array_like_results_are_converted(replica: Predictor) -> None:
    resp = replica.post({"action": "array"})
    assert resp.status == 200
    assert resp.json() == {"array": [1, 2, 3]}


def test_debug_logs_sample_then_prediction_truncated(replica: Predictor) -> None:
    resp = request(replica.port, "POST", "/predict?debug=TRUE", '{"action": "long", "tag": 7}')
    assert resp.status == 200
    assert resp.json() == {"text": "x" * 5000}
    replica.wait_line(r"debug: prediction: \{\"text\":\"x+\.\.\. \(\d+ more chars\)")
    lines = replica.lines
    i_sample = next(i for i, line in enumerate(lines) if 'debug: sample: {"action": "long"' in line)
    i_pred = next(i for i, line in enumerate(lines) if 'debug: prediction: {"text"' in line)
    assert i_sample < i_pred
    assert len(lines[i_pred]) < 1200


def test_debug_logs_a_malformed_sample_too(replica: Predictor) -> None:
    resp = request(replica.port, "POST", "/predict?debug=true", "{'single': 'quotes'}")
    assert resp.status == 400
    replica.wait_line(r"debug: sample: \{'single': 'quotes'\}$")


def test_without_debug_nothing_is_logged_about_the_sample(replica: Predictor) -> None:
    replica.post({"label": "quiet-sample-marker"})
    calls = replica.post({"action": "calls"}).json()
    replica.wait_line(rf"predict called {calls}$")  # the log has caught up
    assert "quiet-sample-marker" not in replica.output


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2", b"\xff", b"NaN",
                                  b'{"x": -Infinity}'])
def test_malformed_json_is_400_and_predict_is_not_called(replica: Predictor, body: bytes) -> None:
    calls = replica.post({"action": "calls"}).json()
    resp = request(replica.port, "POST", "/predict", body)
    assert resp.status == 400
    assert resp.json()["error"].startswith("malformed json: ")
    if body == b"":
        assert resp.json()["error"] == "malformed json: empty body"
    assert replica.post({"action": "calls"}).json() == calls + 1  # only this call


def test_body_over_the_limit_is_413(replica: Predictor) -> None:
    resp = request(replica.port, "POST", "/predict", '{"label": "' + "a" * 5000 + '"}')
    assert resp.status == 413
    assert resp.json() == {"error": "request body too large: the limit is 4096 bytes"}
    assert replica.post({"label": "fine"}).status == 200


def test_headers_over_the_limit_are_413_naming_the_headers(replica: Predictor) -> None:
    resp = request(replica.port, "POST", "/predict", "{}", {"X-Big": "a" * 20000})
    assert resp.status == 413
    assert resp.json() == {"error": "request headers too large: the limit is 8192 bytes"}


def test_predict_exception_is_500_with_type_and_message(replica: Predictor) -> None:
    resp = replica.post({"action": "boom"})
    assert resp.status == 500
    assert resp.json() == {"error": "prediction failed: ValueError: it broke"}
    line = replica.wait_line(r"ERROR .*prediction failed: ValueError: it broke")
    assert "inference.py" in line.string  # the traceback names the user's file
    assert replica.post({"label": "still-serving"}).status == 200


def test_sys_exit_in_predict_is_a_500_not_the_end_of_the_replica(replica: Predictor) -> None:
    resp = replica.post({"action": "exit"})
    assert resp.status == 500
    assert resp.json() == {"error": "prediction failed: SystemExit: 3"}
    assert replica.post({"label": "alive"}).status == 200


def test_keyboard_interrupt_in_predict_is_a_500_not_the_end_of_the_replica(
    replica: Predictor,
) -> None:
    resp = replica.post({"action": "interrupt"})
    assert resp.status == 500
    assert resp.json() == {"error": "prediction failed: KeyboardInterrupt"}
    assert replica.post({"label": "alive"}).status == 200
    resp = replica.post({"action": "cancelled"})  # not the client going away
    assert resp.status == 500
    assert resp.json() == {"error": "prediction failed: CancelledError: gave up"}


def test_exception_status_code_is_honoured_only_when_an_error_status(replica: Predictor) -> None:
    resp = replica.post({"action": "teapot"})
    assert resp.status == 418
    assert resp.json() == {"error": "prediction failed: Teapot: short and stout"}
    resp = replica.post({"action": "bad-status"})
    assert resp.status == 500
    assert replica.post({"action": "bool-status"}).status == 500
    resp = replica.post({"action": "enum-status"})  # http.HTTPStatus members are integers
    assert resp.status == 422
    assert resp.json() == {"error": "prediction failed: EnumStatus: field missing"}


def test_unserialisable_result_is_500(replica: Predictor) -> None:
    resp = replica.post({"action": "unserialisable"})
    assert resp.status == 500
    assert "not serialisable" in resp.json()["error"]
    resp = replica.post({"action": "bad-array"})
    assert resp.status == 500
    assert resp.json() == {
        "error": "prediction not serialisable: RuntimeError: cannot convert"}


def test_healthz_is_ok_once_ready(replica: Predictor) -> None:
    resp = replica.get("/healthz")
    assert resp.status == 200
    assert resp.json() == {"ok": True}
    resp = request(replica.port, "HEAD", "/healthz")
    assert (resp.status, resp.body) == (200, b"")


def test_other_paths_and_methods_are_json_404_and_405(replica: Predictor) -> None:
    resp = replica.get("/nowhere")
    assert resp.status == 404
    assert resp.json() == {"error": "not found: GET /nowhere"}
    resp = replica.get("/predict")
    assert resp.status == 405
    assert "POST" in resp.headers["allow"]
    assert "error" in resp.json()
    resp = request(replica.port, "POST", "/healthz", "{}")
    assert resp.status == 405
    assert "error" in resp.json()


def test_stats_json_counts_requests_and_classes(replica: Predictor) -> None:
    before = replica.get("/stats").json()
    replica.post({"label": "dog"})
    replica.post({"label": "dog"})
    replica.post({"action": "boom"})
    replica.post({"action": "teapot"})
    stats = replica.get("/stats").json()
    assert stats["api"] == "echo-api"
    assert stats["replica"] == "test-echo-api"
    assert isinstance(stats["started"], float)
    assert stats["in_flight"] == 0 and stats["queued"] == 0
    net, old = stats["network_stats"], before["network_stats"]
    assert net["code_2xx"] - old["code_2xx"] == 2
    assert net["code_4xx"] - old["code_4xx"] == 1
    assert net["code_5xx"] - old["code_5xx"] == 1
    assert net["total"] - old["total"] == 4
    assert net["latency_ms"] > 0
    dogs = stats["class_distribution"]["dog"] - before["class_distribution"].get("dog", 0)
    assert dogs == 2
    assert stats["regression_stats"] is None


def _metrics(replica: Predictor) -> dict[str, float]:
    resp = replica.get("/metrics")
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(resp.body.decode()):
        for s in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "api")
            out[f"{s.name}{{{label}}}"] = s.value
    return out


def test_metrics_are_prometheus_text(replica: Predictor) -> None:
    before = _metrics(replica)
    for _ in range(3):
        replica.post({"label": "bird"})
    replica.post({"action": "boom"})
    after = _metrics(replica)

    def delta(key: str) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert delta("cortex_requests_total{status_class=2xx}") == 3
    assert delta("cortex_requests_total{status_class=5xx}") == 1
    assert delta("cortex_request_duration_seconds_count{}") == 4
    assert delta("cortex_request_duration_seconds_bucket{le=+Inf}") == 4
    assert delta("cortex_prediction_class_total{class=bird}") == 3
    assert after["cortex_ready{}"] == 1


GATED = """
import os
import time


def predict(sample, metadata):
    while not os.path.exists(metadata["gate"]):
        time.sleep(0.005)
    return sample
"""


def test_a_client_that_hangs_up_is_no_server_error(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    replica = start_predictor(project(GATED, metadata={"gate": str(gate)})).wait_ready()
    waiting = socket.create_connection(("127.0.0.1", replica.port))
    waiting.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    wait_until(lambda: replica.get("/stats").json()["in_flight"] == 1, what="predict running")
    waiting.close()  # gone while predict runs
    half = socket.create_connection(("127.0.0.1", replica.port))
    half.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
    half.close()  # gone while sending its body
    wait_until(lambda: replica.output.count("client closed the connection") == 2,
               what="two log lines")
    gate.touch()
    assert replica.post({"x": 1}).json() == {"x": 1}
    net = replica.get("/stats").json()["network_stats"]
    assert (net["code_2xx"], net["code_4xx"], net["code_5xx"]) == (1, 2, 0)
    assert " ERROR " not in replica.output


def test_a_prediction_over_the_response_timeout_is_a_clear_503(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED, metadata={"gate": str(gate)})
    replica = start_predictor(root, env={"SANIC_RESPONSE_TIMEOUT": "1"}).wait_ready()
    resp = replica.post({"x": 1})
    assert resp.status == 503
    assert resp.json() == {
        "error": "response timeout: no answer within 1 s (SANIC_RESPONSE_TIMEOUT)"}
    replica.wait_line(r" WARNING .* POST /predict: response timeout")
    gate.touch()


def test_an_api_named_like_an_admin_path_still_predicts_on_post(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(api="stats"), api="stats").wait_ready()
    resp = replica.post({"x": 1}, "/stats")
    assert (resp.status, resp.json()) == (200, {"x": 1})
    stats = replica.get("/stats").json()
    assert stats["api"] == "stats" and stats["network_stats"]["code_2xx"] == 1
