"""Home: the live APIs table with the target header, sorting and `/` filtering."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from cortex_tui.tui.messages import ActionFailed, ApisLoaded, Poll
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.widgets.api_table import SORTS, ApiTable
from cortex_tui.tui.widgets.header import TargetHeader
from cortex_tui.types import ApiState, TargetInfo

TARGET_EVERY = 5  # refreshes between two target_info calls (node counts change slowly)


class ApisScreen(CortexScreen):
    BINDINGS = [
        Binding("l", "logs", "Logs", id="apis.logs"),
        Binding("s", "scale", "Scale", id="apis.scale"),
        Binding("b", "bench", "Bench", id="apis.bench"),
        Binding("ctrl+d", "delete", "Delete", id="apis.delete"),
        Binding("slash", "filter", "Filter", id="apis.filter"),
        Binding("o", "sort", "Sort", id="apis.sort"),
        Binding("O", "reverse_sort", "Reverse", id="apis.reverse", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="apis.clear_filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ticks = 0
        self._poll = Poll(self, ApisLoaded)
        self._loaded = False  # the target answered once (no empty-state flash at start)
        self._title = ""

    def compose(self) -> ComposeResult:
        yield TargetHeader(id="header")
        yield Input(placeholder="filter APIs by name", id="filter")
        yield Static(id="empty")
        yield ApiTable(id="apis")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one(ApiTable).focus()
        self.watch(self.cortex, "states", self._draw)
        interval = self.cortex.refresh_interval
        if interval:
            self.set_interval(interval, self._tick)
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.cortex.states:
            self.refresh_data()

    def _tick(self) -> None:
        if self.is_current:
            self.refresh_data()

    def refresh_data(self) -> None:
        backend = self.cortex.backend
        with_target = self.cortex.target is None or self._ticks % TARGET_EVERY == 0

        def fetch() -> tuple[TargetInfo | None, list[ApiState]]:
            return (backend.target_info() if with_target else None), backend.get()

        if self._poll.run(fetch):
            self._ticks += 1

    def on_apis_loaded(self, message: ApisLoaded) -> None:
        message.stop()
        target, states = message.value
        if target is not None:
            self.cortex.target = target
        self.query_one(TargetHeader).error = None
        self._loaded = True
        self.cortex.states = {s.name: s for s in states}  # the watcher draws

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is ApisLoaded:  # keeps bubbling: the app notifies too
            self.query_one(TargetHeader).error = message.error

    def _draw(self) -> None:
        states = list(self.cortex.states.values())
        table = self.query_one(ApiTable)
        table.show(states, self.cortex.clock())
        title = f"APIs (sort: {table.sort_name}{' ↑' if table.sort_reverse else ''})"
        if title != self._title:  # setting it, even unchanged, repaints all 200 rows
            self._title = title
            table.border_title = title
        empty = self.query_one("#empty", Static)
        empty.display = self._loaded and not states
        if empty.display:
            empty.update(self._empty_hint())

    def _empty_hint(self) -> str:
        where = f"No APIs are deployed on {self.cortex.env}."
        if self.cortex.readonly:
            return where
        return (
            f"{where}\nPress F5 to deploy {self.cortex.config_path}, "
            "or e to edit it first. ? lists every key."
        )

    # -- actions ---------------------------------------------------------------------------
    def _selected(self) -> ApiState | None:
        name = self.query_one(ApiTable).selected_api
        return self.cortex.states.get(name) if name else None

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        state = self._selected()
        if state is not None:
            self.cortex.open_api(state.name)

    def action_logs(self) -> None:
        state = self._selected()
        if state is not None:
            self.cortex.open_api(state.name, tab="logs")

    def action_bench(self) -> None:
        state = self._selected()
        if state is not None:
            self.cortex.open_api(state.name, tab="loadtest", bench=True)

    def action_scale(self) -> None:
        state = self._selected()
        if state is not None:
            self.cortex.open_scale(state)

    def action_delete(self) -> None:
        state = self._selected()
        if state is not None:
            self.cortex.confirm_delete(state.name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bench":
            return self.cortex.backend.supports_load_test
        if action == "clear_filter":  # listed by ? only while a filter is shown
            boxes = self.query("#filter")
            return bool(boxes) and bool(boxes.first().display)
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_one(ApiTable).focus()
        self.refresh_bindings()

    def action_sort(self) -> None:
        table = self.query_one(ApiTable)
        table.sort_index = (table.sort_index + 1) % len(SORTS)
        self._draw()

    def action_reverse_sort(self) -> None:
        table = self.query_one(ApiTable)
        table.sort_reverse = not table.sort_reverse
        self._draw()

    @on(DataTable.HeaderSelected)
    def sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        names = [name for name, _ in SORTS]
        key = event.column_key.value
        if key in names:
            self.query_one(ApiTable).sort_index = names.index(key)
            self._draw()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.query_one(ApiTable).filter_text = event.value.strip()
        self._draw()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(ApiTable).focus()
