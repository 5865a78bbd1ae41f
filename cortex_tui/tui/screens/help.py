"""`?`: the keys active on the screen below, with their binding ids (for keymap.yaml)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from cortex_tui.tui.keymap import KEYMAP_FILENAME
from cortex_tui.tui.screens.base import CortexModal


def bindings_table(screen: Screen) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("key")
    table.add_column("action")
    table.add_column("id (keymap.yaml)", style="dim")
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not active.enabled or not binding.id or key in seen:
            continue
        seen.add(key)
        table.add_row(Text(binding.key_display or screen.app.get_key_display(binding)),
                      binding.description, binding.id or "")
    return table


class HelpScreen(CortexModal):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.table = bindings_table(under)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Text("Keys", style="bold"))
            yield Static(self.table, id="keys")
            yield Static(Text(
                "ctrl+p or : opens the command palette. "
                f"Rebind keys by id in {KEYMAP_FILENAME} in $CORTEX_TUI_HOME (default "
                "~/.cortex-tui), e.g. apis.scale: S",
                style="dim",
            ))

    def action_close(self) -> None:
        self.dismiss(None)
