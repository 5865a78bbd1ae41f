"""python.server_side_batching against real replicas: batches form, the interval bounds a lone
request's wait, the batching rule and failures answer every request of the batch, debug and
tracker stay per sample, a drain finishes the batch."""

from __future__ import annotations

import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.predictor_process import Predictor, request, wait_until

# Each answer says how large its batch was. Samples are dicts: "label" is echoed (tracked),
# "action" breaks the batch's rule or raises; a gate file holds batches while it is missing.
MODEL = """
import os
import time


def predict(samples, metadata):
    while metadata.get("gate") and not os.path.exists(metadata["gate"]):
        time.sleep(0.005)
    actions = {s.get("action") for s in samples}
    if "short" in actions:
        return [{"n": len(samples)}] * (len(samples) - 1)
    if "not-a-list" in actions:
        return {"n": len(samples)}
    if "boom" in actions:
        raise ValueError("the model broke")
    return [{"label": s.get("label", "x"), "batch": len(samples)} for s in samples]
"""


def _start(project: Callable[..., Path], start: Callable[..., Predictor], *, size: int,
           interval: str, gate: Path | None = None, **compute: int) -> Predictor:
    root = project(MODEL, metadata={"gate": str(gate) if gate else ""},
                   tracker={"model_type": "classification", "key": "label"},
                   compute=compute or None)
    _batching(root, size, interval)
    return start(root).wait_ready()


def _batching(root: Path, size: int, interval: str) -> None:
    text = (root / "cortex.yaml").read_text()
    text = text.replace("  python:\n    inference: inference.py\n",
                        "  python:\n    inference: inference.py\n    server_side_batching:\n"
                        f"      max_batch_size: {size}\n      batch_interval: {interval}\n")
    (root / "cortex.yaml").write_text(text)


def _together(replica: Predictor, samples: list[dict]) -> list:
    with ThreadPoolExecutor(len(samples)) as pool:
        return list(pool.map(replica.post, samples))


def test_a_full_batch_goes_at_once_and_counts_per_request(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    # An interval of a minute: only a full batch can answer these.
    replica = _start(project, start_predictor, size=8, interval="60s")
    replica.wait_line(r"init done .*batches of up to 8 samples within 1m\)")
    answers = _together(replica, [{"label": f"c{i % 2}"} for i in range(8)])
    assert [a.status for a in answers] == [200] * 8
    assert sorted(a.json()["label"] for a in answers) == ["c0"] * 4 + ["c1"] * 4
    assert {a.json()["batch"] for a in answers} == {8}
    stats = replica.stats()
    assert stats["predict_mode"] == "batch"
    assert stats["network_stats"]["code_2xx"] == 8  # per request, not per batch
    assert stats["class_distribution"] == {"c0": 4, "c1": 4}  # the tracker sees each sample
    assert stats["batching"]["batches"] == 1
    assert stats["batching"]["avg_batch_size"] == 8
    metrics = {f.name: f for f in text_string_to_metric_families(replica.get("/metrics").body
                                                                  .decode())}
    sizes = {s.name: s.value for s in metrics["cortex_batch_size"].samples}
    assert sizes["cortex_batch_size_count"] == 1 and sizes["cortex_batch_size_sum"] == 8
    assert "cortex_batch_wait_seconds" in metrics


def test_the_interval_sends_a_lone_request_without_a_full_batch(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = _start(project, start_predictor, size=32, interval="50ms")
    answer = replica.post({"label": "alone"})
    assert answer.status == 200
    assert answer.json() == {"label": "alone", "batch": 1}
    waited = replica.stats()["batching"]["avg_wait_ms"]
    # it waited for the interval, not for more samples; uvloop's timers count whole
    # milliseconds from the loop's cached time, so one may fire up to 1 ms early when the loop
    # was woken just before (the replica's in-flight sampler wakes it every 20 ms)
    assert 49 <= waited < 1000


def test_breaking_the_batch_rule_or_raising_fails_every_request_of_that_batch(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = _start(project, start_predictor, size=3, interval="60s")
    for action, error in [
        ("short", "prediction failed: BatchError: with server_side_batching, predict must "
                  "return a list of 3 predictions, one per sample (got 2)"),
        ("not-a-list", "prediction failed: BatchError: with server_side_batching, predict must "
                       "return a list of 3 predictions, one per sample (got dict)"),
        ("boom", "prediction failed: ValueError: the model broke"),
    ]:
        answers = _together(replica, [{"action": action}, {}, {}])
        assert [a.status for a in answers] == [500] * 3
        assert {a.json()["error"] for a in answers} == {error}
    # Malformed JSON is refused before batching; the others of its batch are unaffected.
    with ThreadPoolExecutor(4) as pool:
        bad = pool.submit(request, replica.port, "POST", "/predict", b"{not json")
        good = [pool.submit(replica.post, {"label": "ok"}) for _ in range(3)]
        assert bad.result().status == 400
        assert [g.result().json()["batch"] for g in good] == [3] * 3
    assert replica.stats()["network_stats"]["code_5xx"] == 9


def test_debug_logs_each_sample_and_its_prediction(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = _start(project, start_predictor, size=2, interval="60s")
    with ThreadPoolExecutor(2) as pool:
        answers = [pool.submit(request, replica.port, "POST", "/predict?debug=true",
                               f'{{"label": "dbg{i}"}}') for i in range(2)]
        assert [a.result().status for a in answers] == [200, 200]
    for i in range(2):
        replica.wait_line(rf'debug: sample: {{"label": "dbg{i}"}}')
        replica.wait_line(rf'debug: prediction: {{"label":"dbg{i}","batch":2}}')


def test_the_queue_counts_samples_and_answers_503_beyond_it(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    # One batch of 2 at a time (threads_per_replica 1), and 1 more sample may wait: it goes
    # when the batch before it is done, its interval being over by then.
    replica = _start(project, start_predictor, size=2, interval="200ms", gate=gate,
                     queue_size=1)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(replica.post, {"label": f"q{i}"}) for i in range(3)]
        wait_until(lambda: replica.stats()["in_flight"] == 3, what="3 requests in flight")
        assert replica.stats()["queued"] == 1
        refused = replica.post({"label": "one too many"})
        assert refused.status == 503 and refused.headers["retry-after"] == "1"
        gate.touch()
        assert [f.result().status for f in futures] == [200] * 3
    net = replica.stats()["network_stats"]
    assert (net["code_2xx"], net["code_5xx"]) == (3, 1)


def test_sigterm_answers_the_batches_waiting_and_running_then_exits(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    replica = _start(project, start_predictor, size=2, interval="60s", gate=gate)
    with ThreadPoolExecutor(3) as pool:
        # Two fill a batch that runs (held by the gate); the third waits for its batch.
        futures = [pool.submit(replica.post, {"label": f"d{i}"}) for i in range(3)]
        wait_until(lambda: replica.stats()["in_flight"] == 3, what="3 requests in flight")
        replica.proc.send_signal(signal.SIGTERM)
        replica.wait_line("received SIGTERM")
        gate.touch()
        statuses = [f.result().status for f in futures]
    assert statuses == [200, 200, 200]
    assert replica.proc.wait(30) == 0
