"""Base screens: bindings whose action is mutating are hidden and disabled with --readonly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from cortex_tui.tui.app import CortexApp

# Actions that change something on the target or on disk.
MUTATING_ACTIONS = frozenset({"deploy", "delete", "scale", "save", "apply"})


def readonly_allows(app: Any, action: str) -> bool:
    return not (getattr(app, "readonly", False) and action in MUTATING_ACTIONS)


class CortexScreen(Screen):
    @property
    def cortex(self) -> CortexApp:
        return cast("CortexApp", self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return readonly_allows(self.app, action)


class CortexModal(ModalScreen):
    @property
    def cortex(self) -> CortexApp:
        return cast("CortexApp", self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return readonly_allows(self.app, action)
