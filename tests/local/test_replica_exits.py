"""What the operator records about replicas: a clean exit is not a failure, a re-adopted
replica is not announced ready twice, a deleted history file comes back with a warning."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil

from cortex_tui.config import load_project
from cortex_tui.local.backend import LocalBackend
from cortex_tui.local.client import OperatorClient
from tests.local.conftest import Local, make_project, wait_for

OK = "def predict(sample, metadata):\n    return sample\n"


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _ready_events(local: Local) -> list[str]:
    return [e.message for e in local.backend.events("m") if e.kind == "ready"]


def test_clean_exits_readoption_and_a_deleted_history(local: Local, tmp_path: Path) -> None:
    local.backend.deploy(load_project(make_project(tmp_path / "p", OK, name="m")))
    local.wait_status("m", "live", available=1, timeout=60)
    first = local.replica_pids("m").pop()
    os.kill(first, signal.SIGTERM)  # not from the operator: the replica drains, exits 0
    ready = wait_for(lambda: len(_ready_events(local)) == 2 and _ready_events(local), 60,
                     "a replacement ready")
    state = local.state_of("m")
    assert state.failed == 0 and str(state.status) == "live" and not state.message
    assert [e.kind for e in local.backend.events("m")].count("failed") == 0

    operator = local.operator_pid()
    assert operator is not None
    os.kill(operator, signal.SIGKILL)  # the replica keeps serving
    wait_for(lambda: _gone(operator), 10, "operator gone")
    local.backend = LocalBackend(OperatorClient(local.state))
    local.wait_status("m", "live", available=1, timeout=60)  # re-adopted, checked again
    assert _ready_events(local) == ready

    local.state.history.unlink()
    warning = f"warning: {local.state.history} was deleted; a new one was created"
    wait_for(lambda: warning in local.state.operator_log.read_text(), 10, "the warning")
    assert local.state.history.exists()
