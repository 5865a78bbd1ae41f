"""Container logs of the fake pods: one list of lines per container run (restarts start anew)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

Line = tuple[str, str]  # (RFC 3339 timestamp with nanoseconds, text)


def stamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


class LogBook:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        # (namespace, pod, container) -> runs of the container, oldest first
        self._runs: dict[tuple[str, str, str], list[list[Line]]] = {}

    def write(self, namespace: str, pod: str, container: str, text: str) -> None:
        with self.cond:
            runs = self._runs.setdefault((namespace, pod, container), [[]])
            for line in text.splitlines() or [""]:
                runs[-1].append((stamp(), line))
            self.cond.notify_all()

    def restart(self, namespace: str, pod: str, container: str) -> None:
        """The container restarted: a new run begins (the old one is `previous`)."""
        with self.cond:
            self._runs.setdefault((namespace, pod, container), [[]]).append([])
            self.cond.notify_all()

    def forget(self, namespace: str, pod: str) -> None:
        with self.cond:
            for key in [k for k in self._runs if k[:2] == (namespace, pod)]:
                del self._runs[key]
            self.cond.notify_all()

    def run(self, namespace: str, pod: str, container: str, previous: bool) -> list[Line] | None:
        with self.cond:
            runs = self._runs.get((namespace, pod, container))
            if not runs:
                return [] if not previous else None
            if previous:
                return list(runs[-2]) if len(runs) > 1 else None
            return list(runs[-1])

    def follow(
        self, namespace: str, pod: str, container: str, start: int, stop: threading.Event
    ) -> Iterator[Line]:
        """Lines of the current run from index `start`, until the container restarts or the
        pod is gone (as `kubectl logs -f` ends)."""
        key = (namespace, pod, container)
        with self.cond:
            runs = self._runs.setdefault(key, [[]])
            run_index = len(runs) - 1
        sent = start
        while not stop.is_set():
            with self.cond:
                runs = self._runs.get(key)
                if runs is None or len(runs) <= run_index:
                    return
                current = runs[run_index]
                fresh = current[sent:]
                finished = len(runs) > run_index + 1
                if not fresh and not finished:
                    self.cond.wait(0.2)
                    continue
            yield from fresh
            sent += len(fresh)
            if finished:
                return
