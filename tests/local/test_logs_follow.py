"""`logs(follow=True)` on the local target: new lines arrive, and closing it from another
thread (the TUI leaving its logs tab) ends it even while the logs are quiet."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.local.backend import _read_all
from tests.local.conftest import Local, followed, make_project, wait_for

CODE = """
def predict(sample, metadata):
    print("predicted", sample)
    return sample
"""


def test_follow_sees_new_lines_and_closes_from_another_thread(
    local: Local, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", CODE, name="chatty")
    local.backend.deploy(load_project(root))
    local.wait_status("chatty", "live", available=1)
    # on leaving, nothing more is logged: the reader waits for lines that never come, and
    # closing the follow from this thread must still end it (followed() checks)
    with followed(local.backend, "chatty") as lines:
        wait_for(lambda: any("ready: api chatty" in line.text for line in lines), 20, "ready")
        local.backend.predict("chatty", 42)
        wait_for(lambda: any("predicted 42" in line.text for line in lines), 20, "a new line")


def test_tail_keeps_the_last_n_lines_and_zero_keeps_none(tmp_path: Path) -> None:
    log = tmp_path / "r.log"
    log.write_text("one\ntwo\nthree\n")
    replicas = [{"name": "r", "log": str(log)}]
    assert [x.text for x in _read_all(replicas, {}, None)] == ["one", "two", "three"]
    assert [x.text for x in _read_all(replicas, {}, 2)] == ["two", "three"]
    assert [x.text for x in _read_all(replicas, {}, 5)] == ["one", "two", "three"]
    assert list(_read_all(replicas, {}, 0)) == []  # as kubectl: new lines only


def test_logs_prints_control_characters_escaped(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "esc", 'print("\\x1b]0;owned\\x07\\x1b[2Jcleared")\n\n'
                        "def predict(sample, metadata):\n    return 1\n", name="esc")
    local.backend.deploy(load_project(root))
    local.wait_status("esc", "live", available=1)
    out = local.cli("logs", "esc").stdout
    assert "\\x1b]0;owned\\x07\\x1b[2Jcleared" in out and "\x1b" not in out, repr(out)
