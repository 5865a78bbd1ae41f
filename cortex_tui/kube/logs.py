"""Logs of every replica of an API, prefixed by pod; `follow` survives restarts and new pods."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from cortex_tui.errors import BackendError
from cortex_tui.interface import LogStream
from cortex_tui.kube import labels as L
from cortex_tui.kube.client import Connection
from cortex_tui.kube.objects import Forbidden, call, status_reason
from cortex_tui.types import LogLine
from predictor.logs import escape_control

POD_POLL = 1.0  # seconds between looks for new pods while following
_DONE = object()


def _pods(conn: Connection, api: str) -> list[str]:
    result = call(
        "list pods", conn.core.list_namespaced_pod, conn.namespace,
        label_selector=f"{L.NAME}={api},{L.MANAGED_SELECTOR}",
    )
    return sorted(p.metadata.name for p in result.items or [] if p.spec and p.spec.node_name)


def read_logs(conn: Connection, api: str, tail: int | None) -> Iterator[LogLine]:
    for pod in _pods(conn, api):
        try:
            text = call(
                f"read the log of pod {pod}", conn.core.read_namespaced_pod_log, pod,
                conn.namespace, container=L.CONTAINER, tail_lines=tail,
            )
        except ApiException as exc:
            if exc.status in (400, 404):  # not started yet, or gone meanwhile
                continue
            raise
        for line in (text or "").splitlines():
            yield LogLine(pod, escape_control(line))


def sortable(stamp: str) -> str:
    """RFC 3339 with its fraction padded to nanoseconds, so strings sort as times do."""
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{head}.{fraction.ljust(9, '0')}"


class _PodFollower(threading.Thread):
    """Streams one pod's log; reopens after a container restart, skipping lines already seen
    (by their timestamp)."""

    def __init__(self, conn: Connection, pod: str, out: queue.Queue[Any], stop: threading.Event,
                 tail: int | None) -> None:
        super().__init__(name=f"logs-{pod}", daemon=True)
        self.conn, self.pod, self.out, self.stop, self.tail = conn, pod, out, stop, tail
        self.last_stamp = ""
        self.count_at_last = 0  # lines shown that carry `last_stamp`
        self.to_skip = 0
        self.response: Any = None
        self.gone = False

    def run(self) -> None:
        first = True
        while not self.stop.is_set():
            pause = 0.3  # the stream ended (a restart): reopen soon
            try:
                self.response = self.conn.core.read_namespaced_pod_log(
                    self.pod, self.conn.namespace, container=L.CONTAINER, follow=True,
                    timestamps=True, tail_lines=self.tail if first else None,
                    _preload_content=False,
                )
                first = False
                self.to_skip = self.count_at_last
                self._pump()
            except ApiException as exc:
                if exc.status == 404:
                    self.gone = True
                    return
                if exc.status in (401, 403):  # waiting would not help: tell the reader
                    self.out.put(Forbidden(f"read the log of pod {self.pod}: not allowed by "
                                           f"the cluster: {status_reason(exc)}"))
                    return
                pause = 1.0  # 400: the container is waiting to (re)start
            except (HTTPError, OSError, ValueError):
                pass  # stream cut (closed by us on stop, or by the server): retry below
            if self.stop.wait(pause):
                return

    def _pump(self) -> None:
        buffer = b""
        for chunk in self.response.stream(1024, decode_content=True):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                self._emit(raw.decode("utf-8", errors="replace"))
            if self.stop.is_set():
                return
        if buffer:
            self._emit(buffer.decode("utf-8", errors="replace"))

    def _emit(self, line: str) -> None:
        raw_stamp, _, text = line.partition(" ")
        stamp = sortable(raw_stamp)
        if stamp < self.last_stamp:
            return  # shown before the stream was reopened
        if stamp == self.last_stamp:
            if self.to_skip > 0:
                self.to_skip -= 1
                return
            self.count_at_last += 1
        else:
            self.last_stamp, self.count_at_last, self.to_skip = stamp, 1, 0
        self.out.put(LogLine(self.pod, escape_control(text)))

    def close(self) -> None:
        """Unblock the reading thread: shut the socket down (closing the response from this
        thread would wait for the reader's lock, forever on a quiet log)."""
        connection = getattr(self.response, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def follow_logs(conn: Connection, api: str, tail: int | None) -> LogStream:
    """Every pod's lines as they come (pods come and go meanwhile); `close()` from any thread
    wakes the reader at once."""
    out: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def wake() -> None:
        stop.set()
        out.put(_DONE)

    return LogStream(_follow(conn, api, tail, out, stop), wake=wake)


def _follow(conn: Connection, api: str, tail: int | None, out: queue.Queue[Any],
            stop: threading.Event) -> Iterator[LogLine]:
    followers: dict[str, _PodFollower] = {}

    def watch_pods() -> None:
        while not stop.is_set():
            try:
                for pod in _pods(conn, api):
                    if pod not in followers:
                        followers[pod] = _PodFollower(conn, pod, out, stop, tail)
                        followers[pod].start()
            except Forbidden as exc:
                out.put(exc)
                return
            except (ApiException, BackendError):
                pass  # the cluster is away for a moment: look again
            stop.wait(POD_POLL)
        out.put(_DONE)

    watcher = threading.Thread(target=watch_pods, name=f"logs-{api}", daemon=True)
    watcher.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, Forbidden):
                raise item
            yield item
    finally:
        stop.set()
        for follower in list(followers.values()):
            follower.close()
        deadline = time.monotonic() + 2
        for follower in list(followers.values()):
            follower.join(timeout=max(0.0, deadline - time.monotonic()))
