"""The user's keymap: `$CORTEX_TUI_HOME/keymap.yaml` maps binding ids to keys.

    apis.scale: S          # one key
    app.quit: q,ctrl+q     # several, comma-separated

`?` lists every binding with its id.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cortex_tui.settings import home

KEYMAP_FILENAME = "keymap.yaml"


class KeymapError(ValueError):
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
