"""An API's endpoint port cannot be taken over by another local program: not while its first
replica runs init, not after `local stop`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.local.backend import LocalBackend
from cortex_tui.local.client import OperatorClient
from tests.local.conftest import Local, make_project, wait_for

SLOW_INIT = """
import time

def init(metadata):
    time.sleep(2)

def predict(sample, metadata):
    return "ours"
"""


def _port(local: Local, api: str) -> int:
    return int(local.state_of(api).endpoint.rsplit(":", 1)[1].split("/")[0])


def _other_program_binds(port: int) -> socket.socket:
    """What another user could do: bind the port (SO_REUSEADDR) and listen."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def test_the_endpoint_is_ours_from_deploy_and_after_a_stop(local: Local, tmp_path: Path) -> None:
    local.backend.deploy(load_project(make_project(tmp_path / "p", SLOW_INIT, name="slow")))
    port = _port(local, "slow")
    with pytest.raises(OSError):  # during init: the operator listens already
        _other_program_binds(port).close()
    local.wait_status("slow", "live", available=1)

    local.backend.stop_operator()
    squatter = _other_program_binds(port)
    local.backend = LocalBackend(OperatorClient(local.state))  # a new session starts it again
    try:
        state = local.wait_status("slow", "live", available=1)  # starts the operator again
        moved = _port(local, "slow")
        assert moved != port
        assert f"port {port} was taken by another program" in state.message
        assert f"moved to port {moved}" in state.message
        assert local.backend.predict("slow", {}).body == "ours"
    finally:
        squatter.close()
    wait_for(lambda: "endpoint" in [e.kind for e in local.backend.events("slow")], 5, "event")
