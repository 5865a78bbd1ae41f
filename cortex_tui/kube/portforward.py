"""A local endpoint for an API's pods through the Kubernetes API's port-forward (as
`kubectl port-forward` does; not the service proxy, which the API server throttles).

A listener on 127.0.0.1 takes TCP connections; each is carried to one of the given pods (in
turn) over its own port-forward websocket, opened with the kubernetes client.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading
from typing import Any

from kubernetes import client as k8s
from kubernetes.stream import portforward

from cortex_tui.kube import labels as L
from cortex_tui.kube.client import Connection

CHUNK = 65536


class PortForwarder:
    """Use as a context manager; `port` is the local port while it is open."""

    def __init__(self, conn: Connection, pods: list[str], remote_port: int = L.PORT) -> None:
        self.namespace = conn.namespace
        self.pods = itertools.cycle(pods)
        self.remote_port = remote_port
        # The client's stream helper swaps its ApiClient's transport while it opens a
        # websocket: a client of its own (one opening at a time) keeps other calls unharmed.
        self._core = k8s.CoreV1Api(k8s.ApiClient(conn.api_client.configuration))
        self._opening = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.errors: list[str] = []  # why forwarding a connection failed, for the caller

    def __enter__(self) -> PortForwarder:
        threading.Thread(target=self._accept, name="cortex-port-forward", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):  # wakes the accept() waiting in the thread
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._core.api_client.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._carry, args=(client, next(self.pods)),
                             daemon=True).start()

    def _forward(self, pod: str) -> Any:
        with self._opening:
            return portforward(self._core.connect_get_namespaced_pod_portforward, pod,
                               self.namespace, ports=str(self.remote_port))

    def _carry(self, client: socket.socket, pod: str) -> None:
        try:
            forward = self._forward(pod)
            remote = forward.socket(self.remote_port)
        except Exception as exc:  # the API server refused: the client sees its connection end
            self.errors.append(f"port-forward to pod {pod}: {exc}")
            client.close()
            return
        with self._lock:
            self._open.update((client, remote))
        try:
            _relay(client, remote)
        finally:
            with self._lock:
                self._open.difference_update((client, remote))
            client.close()
            forward.close()


def _relay(a: socket.socket, b: Any) -> None:
    """Bytes both ways until either side ends."""
    peers = {a.fileno(): (a, b), b.fileno(): (b, a)}
    while True:
        readable, _, _ = select.select([a, b], [], [])
        for sock in readable:
            source, sink = peers[sock.fileno()]
            try:
                data = source.recv(CHUNK)
                if not data:
                    return
                sink.sendall(data)
            except OSError:
                return
