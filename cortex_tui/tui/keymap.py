"""The user's keymap: `$CORTEX_TUI_HOME/keymap.yaml` maps binding ids to keys.

    apis.scale: S          # one key
    app.quit: q,ctrl+q     # several, comma-separated

`?` lists every binding with its id.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cortex_tui.errors import UserError
from cortex_tui.settings import home

KEYMAP_FILENAME = "keymap.yaml"


class KeymapError(UserError):
    pass


def keymap_file() -> Path:
    return home() / KEYMAP_FILENAME


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> keys; {} when the file is absent. Raises KeymapError naming the problem."""
    path = path or keymap_file()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KeymapError(f"{path}: cannot read keymap: {exc}") from None
    if not isinstance(data, dict):
        raise KeymapError(f"{path}: must be a map of binding id to keys")
    keymap: dict[str, str] = {}
    for binding_id, keys in data.items():
        if not isinstance(keys, str) or not keys.strip():
            raise KeymapError(f"{path}: {binding_id}: keys must be a non-empty string")
        keymap[str(binding_id)] = keys.replace(" ", "")
    return keymap


def known_binding_ids() -> set[str]:
    """Every binding id the TUI declares (its screens and widgets are imported to find them)."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import cortex_tui.tui.app  # declares the app-wide bindings
    import cortex_tui.tui.screens
    import cortex_tui.tui.widgets

    for package in (cortex_tui.tui.screens, cortex_tui.tui.widgets):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    ids: set[str] = set()
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("cortex_tui."):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return ids


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    known = known_binding_ids()
    return sorted(binding_id for binding_id in keymap if binding_id not in known)
