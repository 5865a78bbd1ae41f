"""The one listening socket per API that every replica of it inherits and accepts from.

All replicas accept from the same kernel queue, so a replica that stops accepting (a rollout,
a scale-in) leaves the connections waiting there to its siblings: none is reset. The operator
binds the socket and listens at once, and keeps it for the API's life: connections wait in
the queue while the first replica runs `init` (a port bound with SO_REUSEADDR but not
listening could be bound and listened on by another local user, who would get our clients).

A restarted operator gets the socket back from a running replica with `pidfd_getfd` (Linux
5.6+, same user, ptrace permission). When that is refused, it binds a second socket on the
port: both carry `SO_REUSEPORT`, so the kernel splits new connections between the old
replicas' socket and the new one, and when the last old replica goes, the connections still
queued on the old socket are reset (unless `net.ipv4.tcp_migrate_req=1`). Only that path
(operator restart, then a rollout, without ptrace permission) can lose a request.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import socket
from collections.abc import Iterable

from cortex_tui.errors import BackendError
from cortex_tui.local.replica import HOST, Replica

_SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture
RECOVER_ENV = "CORTEX_TUI_RECOVER_ENDPOINT"  # "0": never take a replica's socket (tests)


def bind_endpoint(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:port (0: any free port). SO_REUSEPORT lets a
    restarted operator share the port with its own old replicas (the kernel allows it only
    to the same user); SO_REUSEADDR lets it bind past connections in TIME_WAIT."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # see the restart path
        sock.bind((HOST, port))
        sock.listen(socket.SOMAXCONN)  # each replica sets its own backlog again
    except OSError as exc:
        sock.close()
        raise BackendError(f"cannot bind the endpoint {HOST}:{port}: "
                           f"{exc.strerror or exc}") from None
    return sock


def _pidfd_getfd(pid: int, fd: int) -> int | None:
    """A copy of process `pid`'s descriptor `fd`, or None when refused or unsupported."""
    try:
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        got = libc.syscall(_SYS_PIDFD_GETFD, pidfd, fd, 0)
        return int(got) if got >= 0 else None
    except (OSError, AttributeError):
        return None
    finally:
        os.close(pidfd)


def _is_endpoint(sock: socket.socket, port: int) -> bool:
    """Our API's socket, not a connection that reused the descriptor number."""
    try:
        if sock.type != socket.SOCK_STREAM or sock.getsockname()[:2] != (HOST, port):
            return False
        sock.getpeername()
    except OSError:
        return True  # bound to the endpoint and not connected: a listener
    return False


def recover(port: int, replicas: Iterable[Replica]) -> socket.socket | None:
    """The endpoint socket held by one of `replicas` (left by a previous operator)."""
    for replica in replicas:
        if replica.listen_fd is None or replica.state == "stopping":
            continue
        fd = _pidfd_getfd(replica.pid, replica.listen_fd)
        if fd is None:
            continue
        sock = socket.socket(fileno=fd)
        if _is_endpoint(sock, port):
            return sock
        sock.close()
    return None


class Listeners:
    """API name -> its endpoint socket, owned by the operator."""

    def __init__(self) -> None:
        self._by_api: dict[str, socket.socket] = {}
        self.recovered: dict[str, str] = {}  # API -> how its socket was obtained after restart
        self.may_recover = os.environ.get(RECOVER_ENV, "1").strip() != "0"

    def create(self, api: str) -> int:
        """A new API's endpoint; returns its port."""
        sock = bind_endpoint(0)
        self._by_api[api] = sock
        return int(sock.getsockname()[1])

    def get(self, api: str, port: int, replicas: Iterable[Replica]) -> socket.socket:
        """The API's socket; after an operator restart, recovered or bound again."""
        sock = self._by_api.get(api)
        if sock is None:
            sock = recover(port, replicas) if self.may_recover else None
            self.recovered[api] = "recovered from a replica" if sock else "bound again"
            if sock is None:
                sock = bind_endpoint(port)
            self._by_api[api] = sock
        return sock

    def pending(self, api: str, port: int) -> bool:
        """True when a connection waits in the API's endpoint queue (scale to zero: no
        replica accepts, the operator's socket keeps listening and holds it)."""
        try:
            sock = self.get(api, port, ())
        except BackendError:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)

    def close(self, api: str) -> None:
        sock = self._by_api.pop(api, None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def close_all(self) -> None:
        for api in list(self._by_api):
            self.close(api)
