"""The example projects (examples/): private, writable copies for tests that edit or break them."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def copy_example(name: str, into: Path, as_name: str | None = None) -> Path:
    """A copy of examples/<name> at into/<as_name or name>; returns its folder."""
    return Path(shutil.copytree(EXAMPLES / name, into / (as_name or name)))
