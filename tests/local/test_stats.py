"""Totals of an API on the local target, as fresh as the replicas (the merging itself is
tests/test_replica_stats.py's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from tests.local.conftest import Local


def test_get_of_one_api_shows_a_prediction_made_just_before(
    local: Local, iris: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`predict` then `get API`: the totals are read from the replicas then, not at the next
    scrape (here a minute away), so the prediction shows at once."""
    monkeypatch.setenv("CORTEX_TUI_SCRAPE_PERIOD", "60")
    local.backend.deploy(load_project(iris))
    local.wait_status("iris-classifier", "live", available=1)
    sample = json.loads((iris / "sample.json").read_text())
    label = local.backend.predict("iris-classifier", sample).body["label"]
    state = local.state_of("iris-classifier")
    assert (state.network.total, state.network.code_2xx) == (1, 1)
    assert state.tracker is not None and dict(state.tracker.class_distribution) == {label: 1}
    assert local.backend.get()[0].network.total <= 1  # the listing of all keeps its cadence
