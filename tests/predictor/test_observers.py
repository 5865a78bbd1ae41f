"""The seam for publishers such as CloudWatch: observers of every finished request."""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers.predictor_process import Predictor, wait_until

OBSERVER = """
import json


class FileObserver:
    def __init__(self, path, api, replica):
        self.file = open(path, "a")
        self.file.write(json.dumps({"api": api, "replica": replica}) + "\\n")

    def __call__(self, status, latency_ms, tracked):
        self.file.write(json.dumps([status, latency_ms, tracked]) + "\\n")
        self.file.flush()

    def close(self):
        self.file.write('"closed"\\n')
        self.file.close()


def make_observer(api_spec, replica):
    import os
    return FileObserver(os.environ["OBSERVED_FILE"], api_spec.name, replica)


def broken(api_spec, replica):
    raise RuntimeError("no credentials")
"""

MODEL = """
def predict(sample, metadata):
    if sample == "fail":
        raise ValueError("no")
    return {"label": sample}
"""


def test_observers_see_every_request_and_are_closed_at_shutdown(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "file_observer.py").write_text(textwrap.dedent(OBSERVER))
    observed = tmp_path / "observed.jsonl"
    root = project(MODEL, tracker={"model_type": "classification", "key": "label"})
    replica = start_predictor(root, env={
        "PYTHONPATH": str(plugins), "OBSERVED_FILE": str(observed),
        "CORTEX_OBSERVERS": "file_observer:make_observer, file_observer:broken",
        "CORTEX_REPLICA": "r1",
    }).wait_ready()
    replica.wait_line(r"WARNING .*observer file_observer:broken not started: RuntimeError")
    assert replica.post("cat").status == 200
    assert replica.post("fail").status == 500
    assert replica.post({"no": "label"}).status == 200
    replica.terminate()
    assert replica.wait_exit() == 0
    lines = [json.loads(line) for line in observed.read_text().splitlines()]
    assert lines[0] == {"api": "test-api", "replica": "r1"}
    assert [(s, t) for s, _, t in lines[1:4]] == [(200, "cat"), (500, None), (200, None)]
    assert all(latency > 0 for _, latency, _ in lines[1:4])
    assert lines[4] == "closed"


def test_grace_period_bounds_the_drain(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project("import time\n\ndef predict(sample, metadata):\n    time.sleep(30)\n")
    replica = start_predictor(root, env={"CORTEX_GRACE_SECONDS": "0.5"}).wait_ready()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(lambda: replica.post(1))
        wait_until(lambda: replica.get("/stats").json()["in_flight"] == 1, what="in flight")
        replica.terminate()
        assert replica.wait_exit(timeout=20) == 0
        replica.wait_line(r"WARNING .*grace period of 0\.5 s over: 1 requests abandoned")
        with contextlib.suppress(OSError):  # closed: the request was abandoned, as logged
            pending.result(timeout=20)
