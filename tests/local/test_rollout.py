"""Redeploying under a steady stream of requests: no failed request, the new code answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cortex_tui.config import load_project
from cortex_tui.local.backend import post_json
from cortex_tui.types import ApiState
from tests.helpers.request_stream import request_stream
from tests.local.conftest import Local, make_project, wait_for

CODE = """
VERSION = {version}

def predict(sample, metadata):
    return {{"version": VERSION}}
"""


def stream(endpoint: str, stop: threading.Event, answers: list, failures: list,
           keep_alive: bool = False) -> None:
    """A client of the API: the version each answer came from goes to `answers`."""
    request_stream(endpoint, stop, answers, failures, keep_alive=keep_alive, timeout=10,
                   decode=lambda body: json.loads(body)["version"])


def deploy_versioned(local: Local, tmp_path: Path, replicas: int) -> tuple[Path, ApiState]:
    """The `versioned` API (answers its code's VERSION, 1 here) deployed and live."""
    compute = f"min_replicas: {replicas}\nmax_replicas: {replicas}\n" if replicas > 1 else ""
    root = make_project(tmp_path / "p", CODE.format(version=1), name="versioned",
                        compute=compute)
    local.backend.deploy(load_project(root))
    return root, local.wait_status("versioned", "live", available=replicas)


@contextmanager
def traffic(endpoint: str) -> Iterator[tuple[list, list]]:
    """Two clients (a connection per request, and keep-alive) sending requests back to back
    while the block runs: yields the versions answered and the failures, both growing."""
    stop, answers, failures = threading.Event(), [], []
    clients = [threading.Thread(target=stream, args=(endpoint, stop, answers, failures),
                                kwargs={"keep_alive": keep}) for keep in (False, True)]
    for client in clients:
        client.start()
    try:
        yield answers, failures
    finally:
        stop.set()
        for client in clients:
            client.join(20)


def test_redeploy_under_load_loses_no_request(local: Local, tmp_path: Path) -> None:
    """Every replica accepts from the operator's one socket per API, so a replica that drains
    leaves queued connections to the others: nothing is reset, with no kernel setting needed
    (`net.ipv4.tcp_migrate_req` is left as it is, usually 0)."""
    root, state = deploy_versioned(local, tmp_path, replicas=2)
    with traffic(state.endpoint) as (answers, failures):
        # edits do not reach running replicas before a redeploy (the project was snapshotted)
        (root / "inference.py").write_text(CODE.format(version=2))
        wait_for(lambda: len(answers) > 50, 20, "requests flowing")
        assert set(answers) == {1}
        for version in (2, 3):
            (root / "inference.py").write_text(CODE.format(version=version))
            out = local.cli("deploy", "-p", str(root))
            assert "updating versioned api (project files changed)" in out.stdout, out
            seen = len(answers)
            wait_for(lambda v=version, n=seen: len(answers) > n and answers[-1] == v and
                     str(local.state_of("versioned").status) == "live" and
                     len(local.replica_pids("versioned")) == 2, 40, f"version {version} live")
        count = len(answers)
        wait_for(lambda: len(answers) > count + 50, 20, "requests after the rollout")
    assert failures == []
    assert answers[-1] == 3
    assert set(answers) == {1, 2, 3}


def _may_take_fds_of_non_children() -> bool:
    """pidfd_getfd needs ptrace rights over the replicas, which are not the new operator's
    children: root has them, others only where Yama's ptrace_scope is 0."""
    if os.geteuid() == 0:
        return True
    try:
        return Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip() == "0"
    except OSError:
        return True  # no Yama: plain same-user ptrace rules apply


@pytest.mark.skipif(not _may_take_fds_of_non_children(),
                    reason="ptrace restricted (Yama): the operator falls back to a new socket")
def test_rollout_after_an_operator_restart_keeps_the_endpoint_socket(
    local: Local, tmp_path: Path
) -> None:
    """A new operator takes the endpoint socket back from a running replica (pidfd_getfd), so
    the replicas it starts share the old ones' queue: still no failed request."""
    root, state = deploy_versioned(local, tmp_path, replicas=2)
    operator = local.operator_pid()
    assert operator is not None
    os.kill(operator, signal.SIGKILL)
    wait_for(lambda: local.operator_pid() is None, 10, "operator gone")
    with traffic(state.endpoint) as (answers, failures):
        wait_for(lambda: len(answers) > 50, 20, "requests flowing")
        (root / "inference.py").write_text(CODE.format(version=2))
        local.cli("deploy", "-p", str(root))  # starts a new operator, which re-adopts
        wait_for(lambda: answers[-1] == 2 and len(local.replica_pids("versioned")) == 2 and
                 str(local.state_of("versioned").status) == "live", 40, "version 2 live")
        count = len(answers)
        wait_for(lambda: len(answers) > count + 50, 20, "requests after the rollout")
    port = urlsplit(state.endpoint).port
    assert _endpoint_events(local) == [f"port {port}: socket recovered from a replica"]
    assert failures == []
    assert set(answers) == {1, 2}


def _endpoint_events(local: Local) -> list[str]:
    return [e.message for e in local.backend.events("versioned") if e.kind == "endpoint"]


def test_without_the_old_socket_a_new_operator_binds_the_port_again(
    local: Local, tmp_path: Path
) -> None:
    """When the socket cannot be taken back (no ptrace permission), the port is bound again
    beside the old replicas' socket (SO_REUSEPORT) and the rollout completes."""
    root, state = deploy_versioned(local, tmp_path, replicas=1)
    operator = local.operator_pid()
    assert operator is not None
    os.kill(operator, signal.SIGKILL)
    wait_for(lambda: local.operator_pid() is None, 10, "operator gone")
    (root / "inference.py").write_text(CODE.format(version=2))
    env = dict(local.env, CORTEX_TUI_RECOVER_ENDPOINT="0")
    out = subprocess.run([sys.executable, "-m", "cortex_tui", "deploy", "-p", str(root)],
                         env=env, capture_output=True, text=True, timeout=60, cwd=local.home)
    assert out.returncode == 0, out
    local.wait_status("versioned", "live", available=1, up_to_date=1)
    wait_for(lambda: len(local.replica_pids("versioned")) == 1, 30, "the old replica gone")
    assert post_json(state.endpoint, {}, debug=False).body == {"version": 2}
    port = urlsplit(state.endpoint).port
    assert _endpoint_events(local) == [f"port {port}: socket bound again"]
