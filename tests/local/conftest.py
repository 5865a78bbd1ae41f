"""Fixtures for the local target: a private state directory per test, the real operator and
the real predictor, and a teardown that proves no process of ours is left running."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from cortex_tui.local.backend import LocalBackend
from cortex_tui.local.client import OperatorClient
from cortex_tui.local.paths import StateDir
from cortex_tui.types import LogLine
from tests.helpers.examples import copy_example
from tests.helpers.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "examples" / "iris"

# Short periods so autoscaling, restarts and history are observable within seconds.
FAST_OPERATOR = {
    "CORTEX_TUI_SYNC_PERIOD": "1",
    "CORTEX_TUI_SCALE_DOWN_WINDOW": "3",
    "CORTEX_TUI_SCRAPE_PERIOD": "0.5",
    "CORTEX_TUI_RESTART_BACKOFF": "0.2",
    "CORTEX_TUI_RESTART_BACKOFF_MAX": "2",
    "CORTEX_TUI_DRAIN_TIMEOUT": "10",
    "CORTEX_TUI_STABLE_AFTER": "1",
}


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout`."""
    return wait_until(condition, timeout, what or str(condition), period=0.1)


def read_until(stream: IO[str], done: Callable[[list[str]], bool], timeout: float) -> list[str]:
    """Lines of a child's stdout until `done(lines)`; fails after `timeout` instead of hanging."""
    lines: list[str] = []
    finished = threading.Event()

    def reader() -> None:
        for line in stream:
            lines.append(line)
            if done(lines):
                break
        finished.set()

    threading.Thread(target=reader, daemon=True).start()
    if not finished.wait(timeout) or not done(lines):
        pytest.fail(f"output did not arrive within {timeout:.0f}s: {lines[-5:]!r}")
    return lines


@contextmanager
def followed(backend: LocalBackend, api: str) -> Iterator[list[LogLine]]:
    """`logs -f` read by a thread into the list yielded; on exit the follow is closed from
    this thread, which must end the reader even while the logs are quiet."""
    follow = backend.logs(api, follow=True)
    lines: list[LogLine] = []
    reader = threading.Thread(target=lambda: lines.extend(follow), daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        follow.close()
        reader.join(10)
    assert not reader.is_alive(), "the follow iterator did not end when closed"


def processes_of(home: Path) -> list[psutil.Process]:
    """Every process started with this state directory in its environment (our tree)."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "uids"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get("CORTEX_TUI_HOME") == str(home) and \
                    proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@dataclass
class Local:
    """One isolated local target: its state directory, a backend and a CLI runner."""

    home: Path
    env: dict[str, str]
    backend: LocalBackend

    @property
    def state(self) -> StateDir:
        return StateDir(self.home / "local")

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cortex_tui", *args], env=self.env, capture_output=True,
            text=True, timeout=timeout, cwd=self.home,
        )

    def state_of(self, api: str) -> Any:
        return self.backend.get(api)[0]

    def wait_status(self, api: str, status: str, timeout: float = 30.0, **counts: int) -> Any:
        def check() -> Any:
            s = self.state_of(api)
            ok = str(s.status) == status and all(getattr(s, k) == v for k, v in counts.items())
            return s if ok else None
        return wait_for(check, timeout, f"{api} {status} {counts}")

    def replica_pids(self, api: str) -> set[int]:
        pids = set()
        for proc in processes_of(self.home):
            try:
                cmdline = proc.cmdline()
            except psutil.Error:  # exited (or a zombie) since the scan
                continue
            if "predictor" in cmdline and api in cmdline:
                pids.add(proc.pid)
        return pids

    def operator_pid(self) -> int | None:
        return self.backend.client.running_pid()


def make_project(root: Path, inference: str, compute: str = "", name: str = "model",
                 tracker: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "inference.py").write_text(textwrap.dedent(inference))
    (root / "cortex.yaml").write_text(
        f"- kind: api\n  name: {name}\n  python:\n    inference: inference.py\n"
        + (textwrap.indent(textwrap.dedent(tracker), "  ") if tracker else "")
        + ("  compute:\n" + textwrap.indent(textwrap.dedent(compute), "    ") if compute else "")
    )
    return root


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Local]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORTEX_")}
    env.update(FAST_OPERATOR, CORTEX_TUI_HOME=str(home))
    for key in [k for k in os.environ if k.startswith("CORTEX_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("CORTEX_"):
            monkeypatch.setenv(key, value)
    target = Local(home, env, LocalBackend(OperatorClient(StateDir(home / "local"))))
    try:
        yield target
    finally:
        target.backend.stop_operator()
        left = processes_of(home)
        for proc in left:  # never leave anything behind, even when the assertion fails
            proc.kill()
        assert not left, f"processes left after `local stop`: {[p.cmdline() for p in left]}"


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    """A private copy of the iris example (tests may edit it)."""
    return copy_example("iris", tmp_path)
