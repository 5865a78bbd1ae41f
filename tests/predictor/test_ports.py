"""Shared serving port (SO_REUSEPORT) for N replicas, private admin ports, body limits."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.helpers.predictor_process import Predictor, request, wait_until

GATED_INIT = """
import os
import time


def init(metadata):
    while not os.path.exists(metadata["gate"]):
        time.sleep(0.01)


def predict(sample, metadata):
    return sample
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_replicas_share_a_port_and_a_loading_one_gets_no_traffic(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate_a, gate_b = tmp_path / "a", tmp_path / "b"
    gate_a.touch()
    port = _free_port()
    a = start_predictor(project(GATED_INIT, metadata={"gate": str(gate_a)}), port=port,
                        admin_port=0, reuse_port=True, env={"CORTEX_REPLICA": "a"}).wait_ready()
    b = start_predictor(project(GATED_INIT, metadata={"gate": str(gate_b)}), port=port,
                        admin_port=0, reuse_port=True, env={"CORTEX_REPLICA": "b"})
    b.admin_port = int(b.wait_line(r"admin listening on http://127\.0\.0\.1:(\d+)").group(1))
    # b is still in init: its admin port says so, and every request on the shared port is a's.
    assert b.get("/healthz", b.admin_port).status == 503
    for i in range(20):
        assert request(port, "POST", "/predict", str(i)).status == 200
    assert a.stats()["network_stats"]["code_2xx"] == 20
    assert b.stats()["network_stats"]["total"] == 0
    gate_b.touch()
    b.wait_ready()
    assert b.port == port
    assert b.get("/healthz", b.admin_port).status == 200
    # a leaves: the shared port keeps answering, now from b.
    a.terminate()
    assert a.wait_exit() == 0
    for i in range(10):
        assert request(port, "POST", "/predict", str(i)).status == 200
    assert b.stats()["network_stats"]["code_2xx"] >= 10


def test_admin_port_answers_only_health_stats_and_metrics(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(), admin_port=0).wait_ready()
    assert replica.get("/healthz", replica.admin_port).json() == {"ok": True}
    assert replica.get("/metrics", replica.admin_port).status == 200
    assert request(replica.admin_port, "POST", "/predict", "1").status == 404
    # Probes and scrapes are not counted as traffic.
    assert replica.stats()["network_stats"]["total"] == 0


def test_port_in_use_is_a_clear_error(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        replica = start_predictor(project(), port=port)
        assert replica.wait_exit() == 1
        replica.wait_line(rf"ERROR .*cannot listen on 127\.0\.0\.1:{port}: Address already in use")


def _peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return psutil.Process(pid).memory_info().rss


def _send_huge(port: int, chunked: bool, size: int = 50 * 1024 * 1024) -> bytes:
    """Send up to `size` body bytes (until the server stops reading); return its answer."""
    head = ("POST /predict HTTP/1.1\r\nHost: x\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n")
            + "\r\n").encode()
    block = b"1" * (256 * 1024)
    if chunked:
        block = b"%x\r\n%b\r\n" % (len(block), block)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        sent = 0
        try:
            while sent < size:
                s.sendall(block)
                sent += 256 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(10)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_50_mib_body_is_refused_without_taking_50_mib(
    chunked: bool, project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project()).wait_ready()
    assert replica.port is not None
    replica.post({"warm": "up"})
    before = _peak_rss(replica.proc.pid)
    answer = _send_huge(replica.port, chunked)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    grown = _peak_rss(replica.proc.pid) - before
    print(f"peak grew by {grown / 2**20:.1f} MiB")
    # The limit is 10 MiB: a chunked body is read up to it, a declared length not at all.
    assert grown < 30 * 1024 * 1024, f"peak memory grew by {grown / 2**20:.1f} MiB"
    assert replica.post({"still": "serving"}).status == 200
    wait_until(lambda: replica.get("/stats").json()["network_stats"]["code_4xx"] == 1,
               what="the 413 counted")


def test_a_replica_leaving_a_shared_port_under_load_loses_no_request(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "open"
    gate.touch()
    port = _free_port()
    replicas = [
        start_predictor(project(GATED_INIT, metadata={"gate": str(gate)}), port=port,
                        admin_port=0, reuse_port=True, env={"CORTEX_REPLICA": name})
        for name in ("a", "b")
    ]
    for replica in replicas:
        replica.wait_ready()
    stop = threading.Event()
    failures: list[str] = []
    served = [0]

    def client() -> None:  # a new connection per request, as many simple clients do
        while not stop.is_set():
            try:
                resp = request(port, "POST", "/predict", "1", timeout=10)
                if resp.status != 200:
                    failures.append(f"status {resp.status}")
            except OSError as exc:
                failures.append(repr(exc))
            served[0] += 1

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: served[0] >= 200, what="load on both replicas")
        replicas[0].terminate()
        assert replicas[0].wait_exit() == 0
        before = served[0]
        wait_until(lambda: served[0] >= before + 200, what="load on the one left")
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert failures == []
