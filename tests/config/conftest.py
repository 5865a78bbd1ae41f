"""Fixtures for config tests: the repository's examples and scratch projects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

PREDICT = "def predict(sample, metadata):\n    return sample\n"


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A project folder in tmp with the given cortex.yaml text and extra files."""

    def make(yaml_text: str, files: dict[str, str] | None = None, name: str = "proj") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "cortex.yaml").write_text(yaml_text)
        all_files = {"inference.py": PREDICT, **(files or {})}
        for rel, content in all_files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        return root

    return make

