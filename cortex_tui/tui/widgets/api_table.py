"""The live APIs table: rows keyed by API name and updated in place, so the cursor never jumps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from cortex_tui.tui.format import age, number, status_text
from cortex_tui.types import ApiState

COLUMNS: tuple[tuple[str, str], ...] = (
    ("api", "API"),
    ("status", "STATUS"),
    ("up_to_date", "UP-TO-DATE"),
    ("available", "AVAIL"),
    ("requested", "REQ"),
    ("bounds", "MIN-MAX"),
    ("target", "TGT CPU"),  # the autoscaler's target, not the current use
    ("latency", "LATENCY"),
    ("rate", "REQ/S"),
    ("c2xx", "2XX"),
    ("c4xx", "4XX"),
    ("c5xx", "5XX"),
    ("age", "UPDATED"),
)

SortKey = Callable[[ApiState], Any]
SORTS: tuple[tuple[str, SortKey], ...] = (
    ("api", lambda s: s.name),
    ("status", lambda s: (str(s.status), s.name)),
    ("requested", lambda s: (-s.requested, s.name)),
    ("latency", lambda s: (-(s.network.latency_ms or 0), s.name)),
    ("rate", lambda s: (-(s.request_rate or 0), s.name)),
)


def row_values(state: ApiState, now: float) -> tuple[Any, ...]:
    net = state.network
    return (
        state.name,
        status_text(state.status),
        state.up_to_date,
        state.available,
        state.requested,
        f"{state.min_replicas}-{state.max_replicas}",
        f"{state.target_cpu_utilization}%",
        number(net.latency_ms, 1, " ms"),
        number(state.request_rate, 1),
        net.code_2xx,
        net.code_4xx,
        Text(str(net.code_5xx), style="red" if net.code_5xx else ""),
        age(None if state.last_update is None else now - state.last_update),
    )


class ApiTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open", id="apis.open")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.filter_text = ""
        self.sort_index = 0
        self.sort_reverse = False
        self._values: dict[str, tuple[Any, ...]] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_api(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value

    @property
    def sort_name(self) -> str:
        return SORTS[self.sort_index][0]

    def show(self, states: list[ApiState], now: float) -> None:
        """Bring the rows to `states` (filtered), touching only the cells that changed."""
        wanted = {s.name: s for s in states if self.filter_text.lower() in s.name.lower()}
        selected = self.selected_api
        for name in [n for n in self._values if n not in wanted]:
            self.remove_row(name)
            del self._values[name]
        for name, state in wanted.items():
            values = row_values(state, now)
            old = self._values.get(name)
            if old is None:
                self.add_row(*values, key=name)
            else:
                for (column, _), new, previous in zip(COLUMNS, values, old, strict=True):
                    if new != previous:
                        self.update_cell(name, column, new)
            self._values[name] = values
        self._order(wanted)
        self._keep_cursor_on(selected)

    def _keep_cursor_on(self, name: str | None) -> None:
        if name is not None and name in self._values and self.selected_api != name:
            self.move_cursor(row=self.get_row_index(name), animate=False)

    def _order(self, states: dict[str, ApiState]) -> None:
        sort_key = SORTS[self.sort_index][1]
        order = sorted(states, key=lambda n: sort_key(states[n]),
                       reverse=self.sort_reverse)
        current = [row.key.value for row in self.ordered_rows]
        if current != order:
            rank = {name: i for i, name in enumerate(order)}
            self.sort("api", key=lambda name: rank[name])
