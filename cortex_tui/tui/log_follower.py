"""Following an API's logs off the event loop.

`backend.logs(api, follow=True)` blocks between lines, so a daemon thread reads it into a
bounded history, the UI polls `since()`, and the app keeps one follower per API: leaving the
logs tab lets it stop after a grace period; coming back before that reuses it, history
included. Every target's follow stream can be closed from another thread (it ends at once or
within a poll, even while quiet), so the follower closes it when the grace period ends.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from itertools import islice

from cortex_tui.backends import Backend
from cortex_tui.interface import LogStream
from cortex_tui.tui.messages import describe_error
from cortex_tui.types import LogLine

MAX_LINES = 5000
TAIL = 500
GRACE = 30.0  # seconds a detached follower keeps reading


class LogFollower:
    def __init__(self, backend: Backend, api: str) -> None:
        self.backend = backend
        self.api = api
        self.error: str | None = None
        self.ended = False
        self._lines: deque[LogLine] = deque(maxlen=MAX_LINES)
        self._total = 0  # lines ever received (the deque forgets the oldest)
        self._lock = threading.Lock()
        self._stop_after: float | None = None  # monotonic deadline once detached
        self._iterator: LogStream | None = None
        self._thread = threading.Thread(target=self._run, name=f"logs-{api}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float = GRACE) -> None:
        """Stop `grace` seconds from now (see the module's docstring)."""
        self._stop_after = time.monotonic() + grace
        if grace <= 0:
            self._close_if_detached()
        else:
            timer = threading.Timer(grace, self._close_if_detached)
            timer.daemon = True
            timer.start()

    def _close_if_detached(self) -> None:
        stop_after, iterator = self._stop_after, self._iterator
        if stop_after is None or time.monotonic() < stop_after or iterator is None:
            return  # resumed meanwhile, or a later stop() set a later deadline
        with contextlib.suppress(Exception):
            iterator.close()

    def resume(self) -> bool:
        """Keep following if the thread has not exited yet; False when it has."""
        self._stop_after = None
        return self._thread.is_alive() and not self.ended

    def since(self, seen: int) -> tuple[list[LogLine], int]:
        """Lines after the first `seen` ones (as many as are kept), and the new count."""
        with self._lock:
            first = self._total - len(self._lines)
            start = max(seen, first) - first
            return list(islice(self._lines, start, None)), self._total

    def _run(self) -> None:
        iterator = None
        try:
            iterator = self._iterator = self.backend.logs(self.api, follow=True, tail=TAIL)
            for line in iterator:
                stop_after = self._stop_after
                if stop_after is not None and time.monotonic() >= stop_after:
                    break
                with self._lock:
                    self._lines.append(line)
                    self._total += 1
        except Exception as exc:
            self.error = describe_error(exc)
        finally:
            self.ended = True
            if iterator is not None:
                with contextlib.suppress(Exception):  # closing a finished stream
                    iterator.close()


class LogFollowers:
    """One follower per API and backend, kept by the app."""

    def __init__(self) -> None:
        self._by_api: dict[str, LogFollower] = {}

    def follow(self, backend: Backend, api: str) -> LogFollower:
        current = self._by_api.get(api)
        if current is not None and current.backend is backend and current.resume():
            return current
        follower = LogFollower(backend, api)
        follower.start()
        self._by_api[api] = follower
        return follower

    def stop_all(self) -> None:
        for follower in self._by_api.values():
            follower.stop(grace=0)
        self._by_api.clear()
