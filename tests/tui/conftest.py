"""Fixtures for TUI tests: a copy of an example project, the fake backend, an app factory."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cortex_tui.tui.app import CortexApp
from tests.helpers.fake_backend import FakeBackend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def tui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CORTEX_TUI_HOME", str(home))
    return home


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    """A copy of examples/iris; returns its cortex.yaml."""
    root = tmp_path / "iris"
    shutil.copytree(EXAMPLES / "iris", root)
    return root / "cortex.yaml"


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def make_app(fake: FakeBackend, iris: Path) -> Callable[..., CortexApp]:
    def make(**kwargs: Any) -> CortexApp:
        kwargs.setdefault("config_path", iris)
        kwargs.setdefault("clock", fake.clock)
        kwargs.setdefault("refresh_interval", None)
        return CortexApp(fake, **kwargs)

    return make


async def settle(pilot: Any, rounds: int = 3) -> None:
    """Let thread workers finish and their result messages be handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
