"""`cortex-tui bench` against a real replica on the local target: its counts are the replica's,
its exit code follows the error rate, and the run is saved."""

from __future__ import annotations

import json
from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.loadtest.store import RunStore
from tests.local.conftest import Local, make_project

# Samples with "fail" get a 500, the others an answer: the error rate is the failing share.
INFERENCE = """
    def predict(sample, metadata):
        if sample.get("fail"):
            raise ValueError("asked to fail")
        return {"ok": sample["x"]}
"""


def test_bench_counts_are_the_replicas_and_errors_set_the_exit_code(
    local: Local, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "proj", INFERENCE, name="echo")
    (project / "sample.json").write_text('{"x": 1}')
    local.backend.deploy(load_project(project))
    local.wait_status("echo", "live", available=1)
    before = local.state_of("echo").network

    ok = local.cli("bench", "echo", "-p", str(project), "-d", "0.5", "-c", "4", "-o", "json")
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # piped: no progress bar
    summary = json.loads(ok.stdout)
    after = local.state_of("echo").network
    assert summary["requests"] > 0
    assert summary["requests"] == after.total - before.total
    assert summary["codes"]["2xx"] == after.code_2xx - before.code_2xx
    assert summary["via"].startswith("local endpoint 127.0.0.1:")
    assert {"p50", "p90", "p99"} <= set(summary["latency_ms"])

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"x": 1}\n\n{"fail": true}\n')  # blank lines are skipped
    bad = local.cli("bench", "echo", "--samples", str(mixed), "-d", "0.5", "--rate", "40")
    assert bad.returncode == 1
    assert "above --max-error-rate 1 %" in bad.stderr
    assert "x 500 prediction failed: ValueError: asked to fail" in bad.stdout, bad.stdout
    final = local.state_of("echo").network
    assert "5XX " + str(final.code_5xx - after.code_5xx) in bad.stdout

    tolerant = local.cli("bench", "echo", "--samples", str(mixed), "-d", "0.5", "-c", "1",
                         "--max-error-rate", "60%")
    assert tolerant.returncode == 0, tolerant.stdout

    runs = RunStore(local.home / "loadtests.sqlite").list("echo", "local")
    assert [r.id for r in runs] == [3, 2, 1]  # newest first
    assert runs[2].summary()["requests"] == summary["requests"]
