"""The machine as the one node, init failures, and the operator's own safety."""

from __future__ import annotations

import http.client
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.local.capacity import Resources, describe_shortfall
from tests.local.conftest import Local, make_project, processes_of, wait_for

OK = "def predict(sample, metadata):\n    return sample\n"


def test_requests_beyond_the_machine_stay_pending(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "big", OK, name="big", compute="cpu: 64\n")
    local.backend.deploy(load_project(root))
    state = local.wait_status("big", "compute unavailable", timeout=15)
    assert "cpu 64000m requested, more than this machine's" in state.message
    assert state.available == 0
    assert local.replica_pids("big") == set()
    out = local.cli("get")
    assert "compute unavailable" in out.stdout
    sample = tmp_path / "sample.json"
    sample.write_text("1")
    refused = local.cli("predict", "big", str(sample))
    assert refused.returncode == 1
    assert 'api "big" cannot answer: no replica is running (status compute unavailable: ' \
        "replica pending: cpu 64000m requested, more than this machine's" in refused.stderr
    logs = local.cli("logs", "big")
    assert logs.returncode == 0 and logs.stdout == ""
    assert "big: no log lines yet (compute unavailable: replica pending: " in logs.stderr
    wait_for(lambda: len(local.state_of("big").message) and local.backend.metrics("big").points,
             10, "a few operator ticks")
    assert [e.kind for e in local.backend.events("big")].count("pending") == 1


def test_failing_init_shows_error_with_its_message(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "bad", """
        def init(metadata):
            raise RuntimeError("weights file missing: model.bin")

        def predict(sample, metadata):
            return 1
    """, name="broken")
    local.backend.deploy(load_project(root))
    state = local.wait_status("broken", "error", timeout=40)
    assert "weights file missing: model.bin" in state.message
    assert state.failed >= 3
    out = local.cli("get")
    assert "failed" in out.stdout.splitlines()[0]
    detail = local.cli("get", "broken").stdout
    assert "weights file missing" in detail
    # the crash loop goes on (back-off): only the logs `logs` can show stay on disk
    wait_for(lambda: local.state_of("broken").failed >= 6, 40, "6 failures")
    files = list((local.state.root / "logs" / "broken").iterdir())
    assert len({f.stem for f in files}) <= 4, sorted(f.name for f in files)  # 3 failed + 1


def test_operator_is_private_shared_and_survives_stale_files(local: Local, tmp_path: Path) -> None:
    # a stale address from a crashed operator does not block the start
    local.state.ensure()
    local.state.address.write_text(json.dumps({"pid": 999999, "port": 1}))
    local.state.token.write_text("stale")

    pids: list[int | None] = []

    def client() -> None:
        pids.append(local.operator_pid() or _start_and_pid(local))

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(set(pids)) == 1 and pids[0] is not None  # one operator, reused by everyone

    mode = stat.S_IMODE(os.stat(local.state.token).st_mode)
    assert mode == 0o600
    port = json.loads(local.state.address.read_text())["port"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/v1/apis")
    assert conn.getresponse().status == 401  # no token, no answer
    conn.close()
    wait_for(lambda: f"running (pid {pids[0]})" in local.cli("local", "status").stdout,
             10, "status names the operator")


def _start_and_pid(local: Local) -> int | None:
    local.backend.get()
    return local.operator_pid()


def test_replica_over_its_memory_limit_is_out_of_memory(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "hog", """
        HOG = b"x" * (160 << 20)  # 160 MiB, touched

        def predict(sample, metadata):
            return len(HOG)
    """, name="hog", compute="mem: 100Mi\n")
    local.backend.deploy(load_project(root))
    state = local.wait_status("hog", "error (out of memory)", timeout=40)
    assert "more than its mem limit of 100Mi" in state.message


def test_new_replicas_that_keep_failing_end_in_error_beside_a_healthy_one(
    local: Local, tmp_path: Path
) -> None:
    # Only the first replica starts; the ones `scale --min 2` adds fail in init. The healthy
    # old replica must not wipe their failures: back-off grows and the API ends in `error`.
    marker = tmp_path / "first-started"
    root = make_project(tmp_path / "flaky", f"""
        import os

        def init(metadata):
            try:
                os.close(os.open({str(marker)!r}, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                raise RuntimeError("only the first replica may start")

        def predict(sample, metadata):
            return sample
    """, name="flaky")
    local.backend.deploy(load_project(root))
    local.wait_status("flaky", "live", available=1)
    assert local.cli("scale", "flaky", "--min", "2").returncode == 0
    state = local.wait_status("flaky", "error", timeout=40, available=1)
    assert "only the first replica may start" in state.message and state.failed >= 3


def test_predict_that_crashes_the_replica_is_not_sent_twice_nor_left_waiting(
    local: Local, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_TUI_RESTART_BACKOFF", "300")  # no replacement within the test
    root = make_project(tmp_path / "crashy", """
        import os
        import signal

        def predict(sample, metadata):
            print("crashing on", sample, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """, name="crashy")
    (tmp_path / "one.json").write_text("1")
    local.backend.deploy(load_project(root))
    local.wait_status("crashy", "live", available=1)
    crashed = local.cli("predict", "crashy", str(tmp_path / "one.json"))
    assert crashed.returncode == 1
    assert "closed the connection without answering" in crashed.stderr
    local.wait_status("crashy", "updating", available=0, failed=1)
    # no replica runs until the back-off ends: an answer at once, not a wait in the queue
    again = local.cli("predict", "crashy", str(tmp_path / "one.json"), timeout=20)
    assert again.returncode == 1
    assert 'api "crashy" cannot answer: no replica is running (status updating)' in again.stderr
    lines = local.cli("logs", "crashy").stdout
    assert lines.count("crashing on 1") == 1  # the sample reached one replica, once


def test_the_pending_reason_tells_too_big_from_taken() -> None:
    machine = Resources(cpu_millis=2000, mem=16 << 30)
    free = Resources(cpu_millis=500, mem=1 << 30)
    assert describe_shortfall(Resources(1000, 0), free, machine) == \
        "cpu 1000m requested, 500m free of 2000m (other replicas hold the rest)"
    assert describe_shortfall(Resources(100, 1 << 40), free, machine) == \
        "mem 1024.0Gi requested, more than this machine's 16.0Gi"


def test_an_unreadable_state_file_is_named_when_the_operator_cannot_start(local: Local) -> None:
    local.state.ensure()
    local.state.state.write_text('{"apis": [')  # e.g. edited by hand
    out = local.cli("get")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"the local operator did not start: cannot read {local.state.state}" in out.stderr
    assert "move it away to start with no API deployed" in out.stderr


def test_a_relative_home_is_the_same_state_directory_for_the_operator(local: Local) -> None:
    env = dict(local.env, CORTEX_TUI_HOME=".")  # relative to the working directory: the home
    out = subprocess.run([sys.executable, "-m", "cortex_tui", "get"], env=env, cwd=local.home,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no apis are deployed"
    assert local.operator_pid() is not None  # the one the absolute path finds
    assert not (local.state.root / "local").exists()


def test_commands_started_together_share_one_new_operator(local: Local) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "cortex_tui", "get"], env=local.env,
                              cwd=local.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    started = [line for line in local.state.operator_log.read_text().splitlines()
               if "listening on 127.0.0.1:" in line]
    assert len(started) == 1, started
    assert len([p for p in processes_of(local.home) if "cortex_tui.local.daemon" in p.cmdline()
                ]) == 1
