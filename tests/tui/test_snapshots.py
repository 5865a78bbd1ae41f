"""Snapshots of every screen (fixed size, fixed clock and data, no timers, no blinking cursor).

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`, then
`python screenshots/make.py` for the README pictures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.examples import copy_example
from tests.tui.scenes import SCENES, SIZE, Scene


@pytest.fixture
def in_project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_example("iris", tmp_path)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_screen(scene: Scene, in_project_dir: None, snap_compare) -> None:
    assert snap_compare(scene.app(), terminal_size=SIZE, run_before=scene.steps)
