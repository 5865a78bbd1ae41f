"""Deploy the iris example on the local target and use it like a user would, through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.errors import TargetUnavailable
from cortex_tui.local.backend import post_json
from tests.local.conftest import Local, processes_of, read_until, wait_for

API = "iris-classifier"


def test_deploy_predict_scale_heal_delete(local: Local, iris: Path) -> None:
    out = local.cli("deploy", "-p", str(iris))
    assert out.returncode == 0, out.stderr
    assert f"creating {API} api" in out.stdout
    local.wait_status(API, "live", available=1)

    answer = local.cli("predict", API, str(iris / "sample.json"))
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["label"] == "setosa"

    bad_sample = iris.parent / "bad.json"
    bad_sample.write_text('{"sepal_length": "long"}')
    refused = local.cli("predict", API, str(bad_sample))
    assert refused.returncode == 1 and f"{API} answered 400" in refused.stderr
    assert '"error"' in refused.stderr and refused.stdout == ""

    # the tracker and the network totals reach `get -o json` after a scrape
    def scraped() -> dict | None:
        data = json.loads(local.cli("get", API, "-o", "json").stdout)
        return data if data["network_stats"]["total"] >= 2 else None

    data = wait_for(scraped, 15, "scraped stats")
    assert data["status"] == "live" and data["available"] == 1 and data["requested"] == 1
    assert (data["network_stats"]["code_2xx"], data["network_stats"]["code_4xx"]) == (1, 1)
    assert data["class_distribution"] == {"setosa": 1}
    assert data["endpoint"].startswith("http://127.0.0.1:")
    assert (data["min_replicas"], data["max_replicas"]) == (1, 4)

    table = local.cli("get").stdout.splitlines()
    assert table[0].split() == ["api", "status", "up-to-date", "available", "requested",
                                "last", "update"]
    assert table[1].split()[:5] == [API, "live", "1", "1", "1"]
    detail = local.cli("get", API).stdout
    assert "avg latency" in detail and "setosa" in detail and data["endpoint"] in detail

    again = local.cli("deploy", "-p", str(iris))
    assert f"{API} api is up to date" in again.stdout

    # a user error names the rule and changes nothing
    bad = local.cli("scale", API, "--min", "5")
    assert bad.returncode == 1 and "min_replicas (5)" in bad.stderr
    assert local.cli("scale", API, "--min", "3").returncode == 0
    local.wait_status(API, "live", available=3, requested=3)
    pids = local.replica_pids(API)
    assert len(pids) == 3, local.backend.events(API)

    # kill -9 one replica: the operator starts a replacement
    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in local.replica_pids(API) and
             len(local.replica_pids(API)) == 3 and local.state_of(API).available == 3,
             30, "a replacement replica")
    kinds = [e.kind for e in local.backend.events(API)]
    assert "failed" in kinds and "restarted" in kinds

    logs = local.cli("logs", API)
    assert logs.returncode == 0
    prefixes = {line.split("]")[0] + "]" for line in logs.stdout.splitlines()}
    assert len(prefixes) >= 3 and all(p.startswith(f"[{API}-") for p in prefixes)

    deleted = local.cli("delete", API)
    assert deleted.returncode == 0 and f"deleting {API} api" in deleted.stdout
    wait_for(lambda: not local.replica_pids(API), 20, "replicas gone after delete")
    assert local.cli("get").stdout.strip() == "no apis are deployed"
    missing = local.cli("get", API)
    assert missing.returncode == 1 and "not deployed" in missing.stderr

    stop = local.cli("local", "stop")
    assert stop.returncode == 0
    assert processes_of(local.home) == []


def test_operator_crash_keeps_replicas_and_history(local: Local, iris: Path) -> None:
    local.backend.deploy(load_project(iris))
    before = local.wait_status(API, "live", available=1)
    sample = json.loads((iris / "sample.json").read_text())
    for _ in range(3):
        assert local.backend.predict(API, sample).status == 200
    wait_for(lambda: local.state_of(API).network.total == 3, 15, "3 requests scraped")
    replicas = local.replica_pids(API)
    operator = local.operator_pid()
    assert operator is not None
    os.kill(operator, signal.SIGKILL)
    wait_for(lambda: local.operator_pid() is None, 10, "operator gone")

    # the endpoint keeps answering while no operator runs (post_json does not start one)
    assert post_json(before.endpoint, sample, debug=False).status == 200
    assert local.operator_pid() is None

    out = local.cli("get")
    assert out.returncode == 0 and API in out.stdout
    after = local.wait_status(API, "live", available=1)
    assert local.operator_pid() not in (None, operator)
    assert after.endpoint == before.endpoint
    assert local.replica_pids(API) == replicas  # re-adopted, not restarted
    assert after.tracker is not None and after.tracker.class_distribution["setosa"] >= 3
    assert [e.kind for e in local.backend.events(API)][:2] == ["deployed", "ready"]
    assert local.backend.metrics(API).points  # the time series was kept

    # a replica restart keeps the API's totals too
    os.kill(next(iter(replicas)), signal.SIGKILL)
    local.wait_status(API, "live", available=1, failed=0)
    wait_for(lambda: local.replica_pids(API) and local.replica_pids(API) != replicas, 20,
             "replacement replica")
    assert local.state_of(API).network.total >= 4

    # a second client finds and reuses the same operator
    second = local.cli("local", "status")
    assert f"pid {local.operator_pid()}" in second.stdout


def test_logs_follow_and_debug_predict_and_watch(local: Local, iris: Path) -> None:
    local.backend.deploy(load_project(iris))
    local.wait_status(API, "live", available=1)
    follow = subprocess.Popen([sys.executable, "-m", "cortex_tui", "logs", API, "-f"],
                              env=local.env, stdout=subprocess.PIPE, text=True)
    watch = subprocess.Popen([sys.executable, "-m", "cortex_tui", "get", "-w"],
                             env=local.env, stdout=subprocess.PIPE, text=True)
    try:
        out = local.cli("predict", API, str(iris / "sample.json"), "--debug")
        assert out.returncode == 0 and '"label": "setosa"' in out.stdout
        assert follow.stdout is not None and watch.stdout is not None
        seen = read_until(follow.stdout, lambda ls: "debug: prediction" in ls[-1], 30)
        assert seen[-1].startswith(f"[{API}-v1-")
        assert any("debug: sample" in line for line in seen)
        # the table is printed again and again: it refreshes
        read_until(watch.stdout, lambda ls: sum(x.startswith(API) for x in ls) >= 2, 30)
    finally:
        for proc in (follow, watch):
            proc.send_signal(signal.SIGINT)
            assert proc.wait(10) == 0


def test_local_stop_after_an_operator_crash_leaves_nothing(local: Local, iris: Path) -> None:
    local.backend.deploy(load_project(iris))
    local.wait_status(API, "live", available=1)
    operator = local.operator_pid()
    assert operator is not None and local.replica_pids(API)
    os.kill(operator, signal.SIGKILL)
    wait_for(lambda: local.operator_pid() is None, 10, "operator gone")
    out = local.cli("local", "stop")
    assert out.returncode == 0 and "was not running" in out.stdout
    assert "stopped 1 process it had left running" in out.stdout
    assert processes_of(local.home) == []  # the orphaned replicas were stopped too


def test_local_stop_is_not_undone_by_a_connected_session(local: Local, iris: Path) -> None:
    local.backend.deploy(load_project(iris))
    before = local.wait_status(API, "live", available=1)
    assert local.cli("local", "stop").returncode == 0
    assert processes_of(local.home) == []
    for _ in range(3):  # e.g. a TUI left open, polling: it does not resurrect the operator
        with pytest.raises(TargetUnavailable, match="was stopped"):
            local.backend.get()
    assert processes_of(local.home) == []
    # a new command starts it again, with every API deployed before
    assert API in local.cli("get").stdout
    after = local.wait_status(API, "live", available=1)
    assert after.endpoint == before.endpoint


def test_local_stop_while_a_session_polls_leaves_nothing(local: Local, iris: Path) -> None:
    """A TUI refreshing every moment during `local stop` neither restarts the operator
    midway (which `local stop` then had to kill) nor after."""
    local.backend.deploy(load_project(iris))
    local.wait_status(API, "live", available=1)
    done = threading.Event()
    errors: list[str] = []

    def poll() -> None:
        while not done.is_set():
            try:
                local.backend.get()
            except TargetUnavailable as exc:
                errors.append(str(exc))
            done.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        out = local.cli("local", "stop")
        wait_for(lambda: errors, 10, "the polling session told the operator was stopped")
        done.wait(1.0)  # a second of polling after the stop
    finally:
        done.set()
        poller.join(10)
    assert out.returncode == 0 and "left running" not in out.stdout, out.stdout
    assert processes_of(local.home) == []
    assert "was stopped" in errors[-1]
