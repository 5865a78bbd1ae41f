"""The real `cortex-tui` in tmux against the local target: deploy, see live, scale, load-test,
quit."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.examples import copy_example
from tests.local.conftest import FAST_OPERATOR, processes_of

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One tmux server on a private socket, one session running the TUI."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        # COLUMNS / LINES (set by some test runners) would override the window size
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=True, env=env)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "tui")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "tui", key)
            time.sleep(0.15)

    def wait(self, pattern: str, timeout: float = 40.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            found = re.search(pattern, screen)
            if found:
                return found
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {pattern!r}; screen:\n{screen}")


@pytest.fixture
def tui(tmp_path: Path, tui_home: Path) -> Iterator[tuple[Tmux, Path]]:
    project = copy_example("iris", tmp_path)
    env = {**FAST_OPERATOR, "CORTEX_TUI_HOME": str(tui_home), "TERM": "xterm-256color"}
    command = (f"{shlex.quote(sys.executable)} -m cortex_tui -p {shlex.quote(str(project))}; "
               "echo EXIT=$?; sleep 120")
    tmux = Tmux(f"cortex-tui-test-{uuid.uuid4().hex[:8]}")
    args = ["new-session", "-d", "-s", "tui", "-x", "150", "-y", "45", "-c", str(tmp_path)]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    tmux.run(*args, command)
    try:
        yield tmux, project
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True)
        cli_env = {**os.environ, **env}
        subprocess.run([sys.executable, "-m", "cortex_tui", "local", "stop"], env=cli_env,
                       capture_output=True, timeout=60)
        left = processes_of(tui_home)
        for proc in left:
            proc.kill()
        assert not left, f"processes left: {[p.cmdline() for p in left]}"


def test_deploy_see_live_scale_load_test_and_quit(tui: tuple[Tmux, Path]) -> None:
    tmux, project = tui
    tmux.wait(r"target local")
    tmux.wait(r"0 apis")
    tmux.keys("F5")  # deploy
    tmux.wait(r"iris-classifier\s+live\s+1\s+1\s+1\s+1-4")
    tmux.keys("s")
    tmux.wait(r"Scale iris-classifier")
    tmux.keys("Right", "Enter")  # min replicas 1 -> 2
    tmux.wait(r"iris-classifier\s+live\s+2\s+2\s+2\s+2-4")
    text = project.joinpath("cortex.yaml").read_text()
    assert "    min_replicas: 2\n" in text
    assert "# a fifth of a core per replica is plenty for this model" in text
    tmux.keys("b")  # load test: the duration field has the focus, its text selected
    tmux.wait(r"Load test iris-classifier")
    tmux.keys("5", "s", "Enter")
    tmux.wait(r"running · \d+ s left")
    summary = tmux.wait(r"finished .*via local endpoint 127\.0\.0\.1:\d+[\s\S]*"
                        r"requests\s+(\d+) in [\d.]+ s[\s\S]*saved\s+run 1", timeout=30)
    assert int(summary.group(1)) > 0
    tmux.keys("q")
    tmux.wait(r"EXIT=0", timeout=15)
