"""Fixtures for TUI tests: a copy of an example project, the fake backend, an app factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette

from cortex_tui.tui.app import CortexApp
from tests.helpers.examples import copy_example
from tests.helpers.fake_backend import FakeBackend
from tests.tui.scenes import SIZE, settle

__all__ = ["SIZE", "palette", "settle"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def tui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CORTEX_TUI_HOME", str(home))
    return home


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    """A copy of examples/iris; returns its cortex.yaml."""
    return copy_example("iris", tmp_path) / "cortex.yaml"


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    yield backend
    backend.close()


@pytest.fixture
def make_app(fake: FakeBackend, iris: Path) -> Callable[..., CortexApp]:
    def make(**kwargs: Any) -> CortexApp:
        kwargs.setdefault("config_path", iris)
        kwargs.setdefault("clock", fake.clock)
        kwargs.setdefault("refresh_interval", None)
        return CortexApp(fake, **kwargs)

    return make


async def palette(pilot, query: str, command: str) -> None:
    """Open the palette, type `query`, pick the command titled `command` (case-insensitive)."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    commands = pilot.app.screen.query_one(CommandList)
    for _ in range(250):  # the palette searches asynchronously
        titles = [str(commands.get_option_at_index(i).prompt).lower().split("\n")[0]
                  for i in range(commands.option_count)]  # title, then help
        if command.lower() in titles:
            commands.highlighted = titles.index(command.lower())
            break
        await pilot.pause(0.02)
    else:
        raise AssertionError(f"{command!r} not offered for {query!r}: {titles}")
    await pilot.press("enter")
    await settle(pilot)
