"""The top bar: where APIs run (target), the project or API, and counts by status."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from cortex_tui.tui.format import status_counts, status_text, target_line
from cortex_tui.types import ApiState, TargetInfo


def _first_line(
    info: TargetInfo | None, env: str, where: str, readonly: bool, failing: bool = False
) -> Text:
    first = Text("cortex-tui", style="bold")
    first.append(f"  {target_line(info, env, failing)}")
    first.append(f"  ·  {where}", style="dim")
    if readonly:
        first.append("  READ-ONLY", style="bold reverse yellow")
    return first


class TargetHeader(Static):
    DEFAULT_CSS = """
    TargetHeader { height: 2; padding: 0 1; background: $panel; }
    """
    _shown: Text | None = None

    def show(
        self,
        info: TargetInfo | None,
        env: str,
        states: list[ApiState],
        project: str,
        readonly: bool,
        error: str | None = None,
    ) -> None:
        first = _first_line(info, env, f"project {project}", readonly, failing=bool(error))
        second = status_counts(states)
        if error:
            second.append(f"  ✗ {error}", style="bold red")
        self._lines(first, second)

    def show_api(
        self, info: TargetInfo | None, env: str, api: str, state: ApiState | None, readonly: bool
    ) -> None:
        second = Text(f"api {api}  ", style="bold")
        second.append_text(status_text(state.status) if state else Text("loading...", "dim"))
        if state is not None and state.message:
            second.append(f"  {state.message}", style="red")
        self._lines(_first_line(info, env, "api detail", readonly), second)

    def _lines(self, first: Text, second: Text) -> None:
        text = Text("\n", no_wrap=True, overflow="ellipsis").join([first, second])
        if text != self._shown:  # an update re-lays out the whole screen: only on change
            self._shown = text
            self.update(text)
