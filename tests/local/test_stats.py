"""Totals of an API = the merged `/stats` of all its replicas, alive or gone."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.local.stats import interval_latency, merge_network, merge_tracker
from cortex_tui.types import NetworkStats
from tests.local.conftest import Local


def replica(total: int, latency: float | None, reg: dict | None = None,
            classes: dict | None = None) -> dict:
    return {"network_stats": {"latency_ms": latency, "code_2xx": total, "code_4xx": 0,
                              "code_5xx": 0, "total": total},
            "regression_stats": reg, "class_distribution": classes}


def test_network_totals_weight_latency_by_requests() -> None:
    merged = merge_network([replica(3, 1.0), replica(1, 5.0), replica(0, None)])
    assert (merged.total, merged.code_2xx) == (4, 4)
    assert merged.latency_ms == 2.0
    assert merge_network([]).latency_ms is None


def test_regression_and_classes_merge_across_replicas() -> None:
    a = {"min": 1.0, "max": 3.0, "avg": 2.0, "sample_count": 2,
         "histogram": [[2.0, 1], [None, 1]]}
    b = {"min": 0.5, "max": 9.0, "avg": 5.0, "sample_count": 1,
         "histogram": [[2.0, 0], [None, 1]]}
    reg = merge_tracker("regression", [replica(2, 1, a), replica(1, 1, b)]).regression_stats
    assert (reg.min, reg.max, reg.sample_count) == (0.5, 9.0, 3)
    assert reg.avg == 3.0
    assert reg.histogram == ((2.0, 1), (math.inf, 2))
    classes = merge_tracker("classification", [replica(1, 1, classes={"a": 1}),
                                               replica(2, 1, classes={"a": 1, "b": 1})])
    assert classes.class_distribution == {"a": 2, "b": 1}


def test_interval_latency_is_the_latency_of_the_new_requests() -> None:
    before, after = NetworkStats(2.0, 10, 0, 0, 10), NetworkStats(3.0, 20, 0, 0, 20)
    assert interval_latency(before, after) == 4.0
    assert interval_latency(after, after) is None


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
