"""Full-screen pages reachable by a key and from the command palette.

Adding a page is one entry here: its key becomes a binding with id `page.<id>` (rebindable in
keymap.yaml) and the palette gets an "Open <title>" command. The factory gets the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:
    from cortex_tui.tui.app import CortexApp


@dataclass(frozen=True)
class Page:
    id: str
    key: str
    title: str
    help: str
    factory: Callable[[CortexApp], Screen]
    mutating: bool = False  # hidden with --readonly


def _editor(app: CortexApp) -> Screen:
    from cortex_tui.tui.screens.editor import EditorScreen

    return EditorScreen()


def _nodes(app: CortexApp) -> Screen:
    from cortex_tui.tui.screens.nodes import NodesScreen

    return NodesScreen()


PAGES: tuple[Page, ...] = (
    Page("editor", "e", "Editor", "Edit, validate and deploy cortex.yaml", _editor),
    Page("nodes", "n", "Nodes", "Node groups (min/max), nodes and pods pending for room", _nodes),
)


def page(page_id: str) -> Page:
    for entry in PAGES:
        if entry.id == page_id:
            return entry
    raise KeyError(page_id)


def page_bindings() -> list[Binding]:
    return [
        Binding(p.key, f"open_page('{p.id}')", p.title, id=f"page.{p.id}") for p in PAGES
    ]
