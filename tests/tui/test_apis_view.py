"""The APIs view: live table, in-place updates, sorting, filtering, opening an API."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static

from cortex_tui.tui.screens.apis import ApisScreen
from cortex_tui.tui.screens.detail import DetailScreen
from cortex_tui.tui.widgets.api_table import ApiTable
from cortex_tui.tui.widgets.header import TargetHeader
from cortex_tui.types import Status
from tests.tui.conftest import SIZE, settle
from tests.tui.scenes import wait_until


def names(table: ApiTable) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


async def test_table_lists_apis_with_status_and_header_counts(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ApiTable)
        assert names(table) == [
            "fraud-detector", "housing-regressor", "iris-classifier", "sentiment-analyzer"
        ]
        assert str(table.get_cell("sentiment-analyzer", "status")) == "error"
        assert table.get_cell("housing-regressor", "bounds") == "2-6"
        header = str(app.screen.query_one(TargetHeader).render())
        assert "target local" in header
        assert "4 apis  2 live  1 updating  1 error" in header


async def test_refresh_updates_cells_in_place_and_cursor_stays(make_app, fake) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ApiTable)
        await pilot.press("down", "down")
        assert table.selected_api == "iris-classifier"
        fake._apis["iris-classifier"].status = Status.UPDATING
        fake._apis["fraud-detector"].compute = replace(
            fake._apis["fraud-detector"].compute, max_replicas=42
        )
        app.screen.refresh_data()
        await settle(pilot)
        assert str(table.get_cell("iris-classifier", "status")) == "updating"
        assert table.get_cell("fraud-detector", "bounds") == "2-42"
        assert table.selected_api == "iris-classifier"
        del fake._apis["fraud-detector"]
        app.screen.refresh_data()
        await settle(pilot)
        assert "fraud-detector" not in names(table)
        assert table.selected_api == "iris-classifier"


async def test_sort_cycles_columns_and_keeps_the_selected_api(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ApiTable)
        await pilot.press("down")
        assert table.selected_api == "housing-regressor"
        await pilot.press("o")  # by status
        assert table.sort_name == "status"
        assert names(table)[0] == "sentiment-analyzer"  # "error" sorts first
        assert table.selected_api == "housing-regressor"
        await pilot.press("O")
        assert names(table)[-1] == "sentiment-analyzer"


async def test_slash_filters_rows_and_escape_clears(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ApiTable)
        await pilot.press("slash", "r", "e", "g")
        assert names(table) == ["housing-regressor"]
        await pilot.press("enter")  # back to the table, filter kept
        assert table.has_focus and names(table) == ["housing-regressor"]
        await pilot.press("escape")
        assert len(names(table)) == 4


async def test_enter_opens_detail_and_l_opens_logs(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.api == "housing-regressor"
        await pilot.press("escape")
        assert isinstance(app.screen, ApisScreen)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.query_one("#tabs").active == "logs"


async def test_backend_errors_are_notifications_not_crashes(make_app, fake) -> None:
    fake.fail["get"] = "local operator is not running"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):  # refreshing keeps failing: said once, not every second
            app.screen.refresh_data()
            await settle(pilot)
        said = [n for n in app._notifications if "operator is not running" in n.message]
        assert len(said) == 1
        header = app.screen.query_one(TargetHeader)
        assert "✗ local operator is not running" in str(header.render())
        fake.fail.clear()
        app.screen.refresh_data()
        await settle(pilot)
        assert "✗" not in str(header.render())
        assert len(names(app.screen.query_one(ApiTable))) == 4


async def test_a_target_that_never_answered_is_not_shown_as_connecting(make_app, fake) -> None:
    fake.fail["target_info"] = "cannot reach the cluster"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = str(app.screen.query_one(TargetHeader).render())
        assert "target local (no answer)" in header and "connecting" not in header


async def test_a_slow_target_never_gets_overlapping_refreshes(make_app, fake) -> None:
    import threading

    fake.gate = threading.Event()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):  # until the first get() is running
            if fake.called("get"):
                break
            await pilot.pause(0.01)
        app.screen.refresh_data()
        app.screen.refresh_data()
        assert len(fake.called("get")) == 1  # the first call is still running
        fake.gate.set()
        await settle(pilot)
        assert len(names(app.screen.query_one(ApiTable))) == 4
        app.screen.refresh_data()
        await settle(pilot)
        assert len(fake.called("get")) == 2


async def test_an_empty_target_tells_how_to_deploy(make_app, fake) -> None:
    fake.delete(None)
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        hint = pilot.app.screen.query_one("#empty", Static)
        assert hint.display
        assert "No APIs are deployed on local" in str(hint.render())
        assert "F5" in str(hint.render())
        await pilot.press("f5")
        await wait_until(pilot, lambda: bool(fake.get()))
        pilot.app.screen.refresh_data()
        await wait_until(pilot, lambda: not hint.display)


async def test_the_empty_hint_offers_no_deploy_when_readonly(make_app, fake) -> None:
    fake.delete(None)
    async with make_app(readonly=True).run_test(size=SIZE) as pilot:
        await settle(pilot)
        hint = pilot.app.screen.query_one("#empty", Static)
        assert hint.display and "F5" not in str(hint.render())
