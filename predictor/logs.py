"""Replica logging: one line per event on stdout, with the replica's name."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import sysconfig
import time
import traceback
from pathlib import Path
from types import TracebackType

LOGGER_NAME = "cortex.predictor"
log = logging.getLogger(LOGGER_NAME)
DEBUG_VALUE_CHARS = 1000
# C0 and C1 control characters and DEL: a terminal showing `logs` would obey them (colours,
# cursor moves, a rewritten title, a forged log line), and request data reaches log lines.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def escape_control(text: str) -> str:
    """`text` with each control character (tab aside) written as an escape: \\n, \\x1b..."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or f"\\x{ord(m[0]):02x}", text)


class _LineFormatter(logging.Formatter):
    def __init__(self, replica: str) -> None:
        super().__init__()
        self.replica = replica

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().rstrip()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message += (f": {type(exc).__name__}: {exc}; traceback: "
                        f"{one_line_traceback(exc.__traceback__)}")
        message = escape_control(message)  # request data (a body, a URL) reaches here
        return f"{self.formatTime(record)} {record.levelname:<7} {self.replica} {message}"


def setup_logging(replica: str) -> None:
    """Route our logger (and Sanic's error logger) to stdout, one line per record."""
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_LineFormatter(replica))
    logging.captureWarnings(True)  # Python warnings too, as one line each
    # asyncio: "Task exception was never retrieved" and the like, one line too.
    for name in (LOGGER_NAME, "sanic.error", "sanic.root", "sanic.server", "py.warnings",
                 "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO if name == LOGGER_NAME else logging.WARNING)
        logger.propagate = False
    logging.getLogger("sanic.access").disabled = True


def describe(exc: BaseException) -> str:
    """`Type: message`, or just `Type` when the message is empty."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the original error
        text = "<message not printable>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def truncate(text: str, limit: int = DEBUG_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more chars)"


_OWN = (str(Path(__file__).resolve().parent), sysconfig.get_paths()["stdlib"])
_project_root = ""  # files under it are shown relative to it (set when inference.py loads)


def show_paths_relative_to(root: Path) -> None:
    """Name the project's files as the user knows them (`inference.py:25`), not by the path
    of the copy the replica runs (the local operator's snapshot, the pod's /project)."""
    global _project_root
    _project_root = str(root.resolve()) + "/"


def _shown(filename: str) -> str:
    if _project_root and filename.startswith(_project_root):
        return filename[len(_project_root):]
    return filename


def one_line_traceback(tb: TracebackType | None) -> str:
    """A traceback as `file:line in func > ...` (outermost first), for one log line.

    Frames of the predictor itself and of the standard library are left out when any
    other frame (the user's code, their libraries) remains.
    """
    frames = traceback.extract_tb(tb)
    theirs = [f for f in frames if not f.filename.startswith(_OWN)]
    return " > ".join(f"{_shown(f.filename)}:{f.lineno} in {f.name}" for f in theirs or frames)
