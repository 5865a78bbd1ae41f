"""Replica logs stay bounded: the operator rotates them (copy, then truncate) and `logs` reads
across the rotation without losing or repeating lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.local import logfiles
from cortex_tui.local.backend import _read_all
from tests.local.conftest import Local, followed, make_project, wait_for


def test_rotate_moves_the_content_and_a_reader_misses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "r.log"
    replicas = [{"name": "r", "log": str(log)}]
    offsets: dict[str, logfiles.Cursor] = {}
    with open(log, "ab") as writer:  # as a replica's stdout: O_APPEND
        writer.write(b"one\ntwo\n")
        writer.flush()
        assert [x.text for x in _read_all(replicas, offsets, None)] == ["one", "two"]
        writer.write(b"three\n")  # written after the reader's last look, before the rotation
        writer.flush()
        assert not logfiles.rotate(log, max_bytes=100)  # small enough: left alone
        assert logfiles.rotate(log, max_bytes=4)
        assert log.stat().st_size == 0
        assert logfiles.rotated(log).read_text() == "one\ntwo\nthree\n"
        writer.write(b"four\n")  # lands at the start of the emptied file
        writer.flush()
    assert log.read_text() == "four\n"
    assert [x.text for x in _read_all(replicas, offsets, None)] == ["three", "four"]
    # a new reader sees the rotated generation first; --tail counts across both
    assert [x.text for x in _read_all(replicas, {}, None)] == ["one", "two", "three", "four"]
    assert [x.text for x in _read_all(replicas, {}, 2)] == ["three", "four"]


def test_last_text_reaches_into_the_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "r.log"
    logfiles.rotated(log).write_text("Traceback: boom\n")
    log.write_text("restarting\n")
    assert logfiles.last_text(log) == "Traceback: boom\nrestarting\n"


CHATTY = """
def predict(sample, metadata):
    print("x" * 400, sample, flush=True)
    return sample
"""


def test_operator_keeps_a_chatty_replica_log_bounded(
    local: Local, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_TUI_LOG_MAX_MB", "0.01")  # 10 KiB, read when the operator starts
    root = make_project(tmp_path / "p", CHATTY, name="chatty")
    local.backend.deploy(load_project(root))
    local.wait_status("chatty", "live", available=1)
    with followed(local.backend, "chatty") as seen:
        for i in range(100):  # about 40 KiB of log: several rotations
            local.backend.predict("chatty", i)
        log = Path(local.backend._replicas("chatty")[0]["log"])
        wait_for(lambda: logfiles.rotated(log).exists(), 20, "a rotated log")
        wait_for(lambda: log.stat().st_size <= 20 << 10, 20, "the log back under its bound")
        wait_for(lambda: any(line.text.endswith(" 99") for line in seen), 20, "the last line")
    assert log.stat().st_size + logfiles.rotated(log).stat().st_size < 64 << 10
    numbers = [int(line.text.rsplit(" ", 1)[1]) for line in seen if "xxxx" in line.text]
    assert numbers == sorted(set(numbers)), "a line repeated or out of order across rotations"
    assert len(numbers) >= 90  # only a write in the instant of a truncation can be lost
    tail = [line.text for line in local.backend.logs("chatty", tail=3)]
    assert tail[-1].endswith(" 99")
