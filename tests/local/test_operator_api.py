"""The operator's HTTP API under hostile local clients: idle and reset connections cost a bounded
number of threads and one log line each at most; its log is rotated."""

from __future__ import annotations

import json
import socket
import struct

import psutil
import pytest

from cortex_tui.local import logfiles
from cortex_tui.local.server import IO_TIMEOUT, WORKERS
from tests.local.conftest import Local, wait_for


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (as a client that crashed or dropped off the network)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_idle_and_reset_clients_cost_bounded_threads_and_no_tracebacks(local: Local) -> None:
    pid = local.backend.operator_info()["pid"]
    port = json.loads(local.state.address.read_text())["port"]
    operator = psutil.Process(pid)
    idle = [_connect(port) for _ in range(3 * WORKERS)]
    wait_for(lambda: operator.num_threads() >= WORKERS, 10, "every worker busy")
    assert operator.num_threads() <= WORKERS + 8  # not a thread per connection
    for sock in idle:
        _reset(sock)
    assert local.backend.get() == []  # the queue drains at once

    for _ in range(40):  # clients that drop in the middle of a request
        sock = _connect(port)
        sock.sendall(b"GET /v1/apis HTTP/1.1\r\nHost: x")
        _reset(sock)
    assert local.backend.get() == []
    log = local.state.operator_log.read_text()
    assert "Traceback" not in log, log
    assert 1 <= log.count("dropped (ConnectionResetError)") <= 2, log

    # a client that connects and says nothing is disconnected by the operator
    silent = _connect(port)
    silent.settimeout(IO_TIMEOUT + 10)
    assert silent.recv(1) == b""


def test_the_operator_log_is_rotated(local: Local, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORTEX_TUI_LOG_MAX_MB", "1")
    local.state.ensure()
    old = local.state.operator_log
    old.write_text("an old line\n" * 100_000)  # 1.2 MB
    local.backend.get()
    wait_for(lambda: logfiles.rotated(old).exists(), 10, "operator.log.1")
    assert old.stat().st_size < 1 << 20
    assert logfiles.rotated(old).read_text().startswith("an old line\n")
