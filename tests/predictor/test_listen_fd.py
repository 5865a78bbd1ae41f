"""--listen-fd: replicas serving one socket their parent owns (the local operator's endpoint)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.predictor_process import Predictor, request, wait_until
from tests.helpers.request_stream import request_stream
from tests.predictor.test_ports import GATED_INIT

SLOWISH = """
import time


def predict(sample, metadata):
    time.sleep(0.002)
    return sample
"""


@pytest.fixture
def shared() -> Iterator[socket.socket]:
    """Bound, not listening: the first replica done with init makes it listen."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def _refused(port: int) -> bool:
    try:
        request(port, "GET", "/healthz", timeout=2)
    except ConnectionRefusedError:
        return True
    return False


def test_inherited_socket_is_served_only_after_init(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor],
    shared: socket.socket, tmp_path: Path,
) -> None:
    port = shared.getsockname()[1]
    gate = tmp_path / "gate"
    replica = start_predictor(project(GATED_INIT, metadata={"gate": str(gate)}),
                              admin_port=0, listen_fd=shared.fileno())
    replica.wait_line(r"admin listening")
    assert _refused(port)  # init is running: nothing listens on the endpoint yet
    gate.touch()
    replica.wait_ready()
    assert replica.port == port
    assert request(port, "POST", "/predict", "7").json() == 7


def _client(port: int, keep_alive: bool, stop: threading.Event, ok: list,
            failed: list[str]) -> None:
    request_stream(f"http://127.0.0.1:{port}/predict", stop, ok, failed, body=b"1",
                   keep_alive=keep_alive)


def test_a_draining_replica_leaves_queued_and_keep_alive_connections_to_its_sibling(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor],
    shared: socket.socket,
) -> None:
    port = shared.getsockname()[1]
    root = project(SLOWISH)
    a = start_predictor(root, admin_port=0, listen_fd=shared.fileno(),
                        env={"CORTEX_REPLICA": "a"}).wait_ready()
    b = start_predictor(root, admin_port=0, listen_fd=shared.fileno(),
                        env={"CORTEX_REPLICA": "b"}).wait_ready()
    stop, ok, failed = threading.Event(), [], []
    clients = [threading.Thread(target=_client, args=(port, keep, stop, ok, failed))
               for keep in (True, True, False, False)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: a.stats()["network_stats"]["code_2xx"] > 20, 20, "a serving")
        a.terminate()
        assert a.wait_exit() == 0
        count = len(ok)
        wait_until(lambda: len(ok) > count + 100, 20, "requests after a left")
    finally:
        stop.set()
        for thread in clients:
            thread.join(30)
    assert failed == []
    assert b.stats()["network_stats"]["code_2xx"] > 100
    assert "grace period" not in a.output


def test_listen_fd_that_is_not_a_socket_is_a_clear_error(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path,
) -> None:
    with open(tmp_path / "file", "w") as handle:
        fd = handle.fileno()
        replica = start_predictor(project(), listen_fd=fd)
        assert replica.wait_exit() == 1
    assert f"--listen-fd {fd}: not an open socket" in replica.output
