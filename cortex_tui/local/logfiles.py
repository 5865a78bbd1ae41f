"""Replica log files: size-bounded by rotation, and read incrementally by `logs`.

A replica writes its stdout to `NAME.log` through a descriptor opened with O_APPEND, which the
operator does not own (replicas outlive an operator restart). So the operator rotates by copy
and truncate: the content goes to a new `NAME.log.1` (one generation, as kubelet keeps a
bounded few), renamed into place so each generation is a new inode that readers can notice,
and the replica's next write lands at the start of the emptied file. The copy loops until a
pass finds nothing new, so only a write landing in the last instant before the truncation can
be lost.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

COPY_CHUNK = 1 << 20


def rotated(path: Path) -> Path:
    return path.with_name(path.name + ".1")


def rotate(path: Path, max_bytes: int) -> bool:
    """Move `path`'s content to a new `.1` file and empty it, when it is over `max_bytes`."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return False
    try:
        with open(path, "r+b") as src, os.fdopen(fd, "wb") as dst:
            copied = 0
            while chunk := os.pread(src.fileno(), COPY_CHUNK, copied):
                dst.write(chunk)
                copied += len(chunk)
            src.truncate(0)
        os.replace(tmp, rotated(path))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


@dataclass
class Cursor:
    """Where a reader of one log is: the offset in the live file and the generation (the
    `.1` file's inode) it had when it got there."""

    offset: int = 0
    generation: int | None = None


def _generation(path: Path) -> int | None:
    try:
        return rotated(path).stat().st_ino
    except OSError:
        return None


def read_from(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines of `path` after `offset`, and the offset after the last one."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", "replace").splitlines(), offset + end


def read_all(path: Path) -> tuple[list[str], Cursor]:
    """Every complete line, the rotated generation's first, and a cursor after them."""
    generation = _generation(path)
    older, _ = read_from(rotated(path), 0)
    lines, offset = read_from(path, 0)
    return older + lines, Cursor(offset, generation)


def read_new(path: Path, cursor: Cursor) -> list[str]:
    """The lines written since `cursor` (which moves past them). After a rotation, the rest of
    the old content is read from the `.1` file, then the emptied file from its start."""
    generation = _generation(path)
    try:
        shrunk = path.stat().st_size < cursor.offset
    except OSError:
        return []
    missed: list[str] = []
    if generation != cursor.generation or shrunk:
        if generation is not None:
            missed, _ = read_from(rotated(path), cursor.offset)
        cursor.offset, cursor.generation = 0, generation
    lines, cursor.offset = read_from(path, cursor.offset)
    return missed + lines


def last_text(path: Path, max_bytes: int = 16384) -> str:
    """About the last `max_bytes` of the log, reaching into the rotated file if need be."""
    parts: list[bytes] = []
    want = max_bytes
    for candidate in (path, rotated(path)):
        try:
            with open(candidate, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(size - want, 0))
                data = handle.read()
        except OSError:
            continue
        parts.insert(0, data)
        want -= len(data)
        if want <= 0:
            break
    return b"".join(parts).decode("utf-8", "replace")
