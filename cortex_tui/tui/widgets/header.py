"""The top bar: where APIs run (target), the project or API, and counts by status.

It draws itself from the app's reactive state (`target`, `env`, `readonly`, `states`) and its
own: `error` (the APIs view's last refresh failed) and, on an API's detail, `api_state`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.reactive import var
from textual.widgets import Static

from cortex_tui.tui.format import status_counts, status_text, target_line
from cortex_tui.types import ApiState

if TYPE_CHECKING:
    from cortex_tui.tui.app import CortexApp

APP_STATE = ("target", "env", "readonly", "states")  # the app reactives the header shows


class TargetHeader(Static):
    DEFAULT_CSS = """
    TargetHeader { height: 2; padding: 0 1; background: $panel; }
    """
    error: var[str | None] = var(None)
    api_state: var[ApiState | None] = var(None)
    _shown: Text | None = None

    def __init__(self, api: str | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.api = api  # None: the project's header (APIs view)

    def on_mount(self) -> None:
        for name in APP_STATE:
            self.watch(self.app, name, self._draw, init=False)
        self._draw()

    def watch_error(self) -> None:
        self._draw()

    def watch_api_state(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        app = cast("CortexApp", self.app)
        if self.api is None:
            where, failing = f"project {app.config_path.parent}", bool(self.error)
            second = status_counts(list(app.states.values()))
            if self.error:
                second.append(f"  ✗ {self.error}", style="bold red")
        else:
            where, failing = "api detail", False
            second = self._api_line(self.api, self.api_state)
        first = Text("cortex-tui", style="bold")
        first.append(f"  {target_line(app.target, app.env, failing)}")
        first.append(f"  ·  {where}", style="dim")
        if app.readonly:
            first.append("  READ-ONLY", style="bold reverse yellow")
        text = Text("\n", no_wrap=True, overflow="ellipsis").join([first, second])
        if text != self._shown:  # an update re-lays out the whole screen: only on change
            self._shown = text
            self.update(text)

    @staticmethod
    def _api_line(api: str, state: ApiState | None) -> Text:
        second = Text(f"api {api}  ", style="bold")
        second.append_text(status_text(state.status) if state else Text("loading...", "dim"))
        if state is not None and state.message:
            second.append(f"  {state.message}", style="red")
        return second
