"""The load test from the TUI: `b` opens the dialog, the Load test tab runs the real generator
(against a real HTTP server on 127.0.0.1 behind the fake backend), shows the summary, saves the
run, compares two runs; esc stops a running test at once."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Static

from cortex_tui.tui.app import CortexApp
from cortex_tui.tui.screens.detail import DetailScreen
from cortex_tui.tui.screens.loadtest_dialog import LoadTestDialog
from cortex_tui.tui.widgets.loadtest_panel import LoadTestPanel
from tests.helpers.fake_backend import FakeBackend
from tests.helpers.slow_http import SlowServer, slow_server
from tests.tui.scenes import footer_keys, settle


@pytest.fixture
def server() -> Iterator[SlowServer]:
    with slow_server(0.002) as url:
        yield url


def text_of(pilot, selector: str) -> str:
    """What a Static shows, tables included, as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(pilot.app.screen.query_one(selector, Static).content)
    return console.export_text()


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Like scenes.wait_until, without waiting for every worker (a load test's runs on)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {condition}")


async def start_test(pilot, duration: str, amount: str = "4",
                     accepted: bool = True) -> LoadTestPanel:
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, LoadTestDialog))
    pilot.app.screen.query_one("#lt-duration", Input).value = duration
    pilot.app.screen.query_one("#lt-amount", Input).value = amount
    await pilot.press("enter")  # in a text field: start
    if accepted:
        await until(pilot, lambda: not isinstance(pilot.app.screen, LoadTestDialog))
        return pilot.app.screen.query_one(LoadTestPanel)
    return pilot.app.screen_stack[-2].query_one(LoadTestPanel)


async def test_b_runs_stops_saves_and_compares_load_tests(
    make_app: Callable[..., CortexApp], fake: FakeBackend, server: SlowServer
) -> None:
    fake.load_url = server
    async with make_app().run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert footer_keys(pilot)["b"] == "Bench"
        # refused: the dialog stays and says why
        await start_test(pilot, "1s", amount="2000", accepted=False)
        await until(pilot, lambda: "refused" in text_of(pilot, "#reason"))
        assert "concurrency: must be 1..1024" in text_of(pilot, "#reason")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))

        panel = await start_test(pilot, "1s")
        assert pilot.app.screen.query_one("#tabs").active == "loadtest"
        await until(pilot, lambda: "saved    run 1" in text_of(pilot, "#lt-summary"), 20)
        assert "finished" in text_of(pilot, "#lt-status")
        assert "via fake endpoint" in text_of(pilot, "#lt-status")
        assert "latency  p50" in text_of(pilot, "#lt-summary")
        assert panel.record is not None and panel.record.requests > 10
        assert server.connections == 4  # keep-alive: one per connection of the test
        runs = pilot.app.screen.query_one("#lt-runs", DataTable)
        await until(pilot, lambda: runs.row_count == 1)

        await start_test(pilot, "10m")
        await until(pilot, lambda: panel.running and panel.record and panel.record.ticks)
        assert footer_keys(pilot)["ctrl+c"] == "Stop test"
        await pilot.press("escape")  # stops the test at once; the screen stays
        await until(pilot, lambda: "stopped" in text_of(pilot, "#lt-status"), 5)
        assert isinstance(pilot.app.screen, DetailScreen)
        # Stopped at once, not after its 10 minutes (a loaded machine is slow to tick: 10.5 s
        # were seen before the first tick arrived).
        assert panel.record.elapsed < 120
        await until(pilot, lambda: runs.row_count == 2)

        runs.focus()
        await pilot.press("space", "down", "space", "c")
        await until(pilot, lambda: "run 1 vs run 2" in text_of(pilot, "#lt-summary"))
