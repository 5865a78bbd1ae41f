"""The operator's own log (its stdout and stderr, which are `operator.log`) and the writes to
the state directory that may fail (a full or read-only disk).

Nothing written here may raise into the operator's loop: a line that cannot be written is
counted and the count is written with the next line that can be; a write that keeps failing
(history, state) is reported once when it starts and once when it works again; the same
error in every tick is written once, then counted.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable

from predictor.logs import escape_control


def describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


class OperatorLog:
    """A file-like writer on a descriptor that never raises (installed as sys.stdout and
    sys.stderr in the operator, so no print and no thread's traceback can stop it)."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self.lost = 0  # lines that could not be written since the last one that could
        self._lock = threading.Lock()
        self._last_error = ""
        self._repeats = 0
        self._limited: dict[str, tuple[float, int]] = {}  # key -> (last written, suppressed)

    # file-like, for print() and the interpreter's own error reports
    def write(self, text: str) -> int:
        with self._lock:
            self._write_raw(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def _write_raw(self, text: str) -> bool:
        data = text.encode("utf-8", "replace")
        if self.lost:
            data = (f"{time.ctime()}: {self.lost} operator log line(s) lost (the log could "
                    f"not be written)\n").encode() + data
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:
            self.lost += 1
            return False
        self.lost = 0
        return True

    def say(self, text: str) -> None:
        """One timestamped line (a traceback keeps its line breaks; control characters, which
        may come from requests, are escaped)."""
        text = "\n".join(escape_control(line) for line in text.split("\n"))
        with self._lock:
            self._write_raw(f"{time.ctime()}: {text}\n")

    def limited(self, key: str, text: str, every: float = 1.0) -> None:
        """`text` at most once per `every` seconds per `key`; the rest are counted."""
        now = time.monotonic()
        last, suppressed = self._limited.get(key, (0.0, 0))
        if now - last < every:
            self._limited[key] = (last, suppressed + 1)
            return
        self._limited[key] = (now, 0)
        more = f" (and {suppressed} more like it)" if suppressed else ""
        self.say(text + more)

    def error(self, what: str, exc: BaseException) -> None:
        """An unexpected error with its traceback; the same error again is only counted."""
        key = "".join(traceback.format_exception_only(exc))
        if key == self._last_error:
            self._repeats += 1
            return
        if self._repeats:
            self.say(f"the previous error happened {self._repeats} more time(s)")
        self._last_error, self._repeats = key, 0
        self.say(f"{what}:\n" + "".join(traceback.format_exception(exc)).rstrip())


class Faults:
    """Kinds of writes that fail (e.g. "history writes"): each is reported once when it starts
    failing, with the reason, and once when it works again, with how many were lost."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._failing: dict[str, tuple[str, int]] = {}  # what -> (reason, count)
        self._lock = threading.Lock()

    def failed(self, what: str, exc: BaseException | str) -> None:
        reason = describe(exc)
        with self._lock:
            _, count = self._failing.get(what, ("", 0))
            self._failing[what] = (reason, count + 1)
        if not count:
            self.say(f"{what} fail ({reason}); they are counted until they work again")

    def ok(self, what: str) -> None:
        with self._lock:
            reason, count = self._failing.pop(what, ("", 0))
        if count:
            self.say(f"{what} work again; {count} failed meanwhile ({reason})")

    def reason(self, what: str) -> str:
        with self._lock:
            return self._failing.get(what, ("", 0))[0]
