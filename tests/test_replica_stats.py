"""The one reader of replicas' /stats (cortex_tui.replica_stats), shared by both targets.
Each `disagreement` test pins where the local and Kubernetes copies used to differ."""

from __future__ import annotations

import math
from typing import Any

from cortex_tui.replica_stats import merge_batching, merge_network, merge_tracker, point, scrape
from cortex_tui.types import RegressionStats


def doc(total: int, latency: float | None, reg: dict | None = None,
        classes: dict | None = None, started: float = 1.0) -> dict[str, Any]:
    return {"started": started,
            "network_stats": {"latency_ms": latency, "code_2xx": total, "code_4xx": 0,
                              "code_5xx": 0, "total": total},
            "regression_stats": reg, "class_distribution": classes}


def test_network_totals_weight_latency_by_requests() -> None:
    merged = merge_network([doc(3, 1.0), doc(1, 5.0), doc(0, None)])
    assert (merged.total, merged.code_2xx) == (4, 4)
    assert merged.latency_ms == 2.0
    assert merge_network([]).latency_ms is None


def test_disagreement_latency_ignores_requests_without_a_latency() -> None:
    """local weighted by every request, so a replica with requests but no latency (only
    refused ones) pulled the average toward 0; kube did not. Now: kube's way."""
    merged = merge_network([doc(3, 1.0), doc(1, 5.0), doc(4, None)])
    assert merged.total == 8
    assert merged.latency_ms == 2.0


def test_regression_and_classes_merge_across_replicas() -> None:
    a = {"min": 1.0, "max": 3.0, "avg": 2.0, "sample_count": 2,
         "histogram": [[2.0, 1], [None, 1]]}
    b = {"min": 0.5, "max": 9.0, "avg": 5.0, "sample_count": 1,
         "histogram": [[2.0, 0], [None, 1]]}
    tracker = merge_tracker([doc(2, 1, a), doc(1, 1, b)], "regression")
    assert tracker is not None and tracker.regression_stats is not None
    reg = tracker.regression_stats
    assert (reg.min, reg.max, reg.sample_count) == (0.5, 9.0, 3)
    assert reg.avg == 3.0
    assert reg.histogram == ((2.0, 1), (math.inf, 2))
    assert merge_tracker([doc(1, 1)], None) is None


def test_disagreement_regression_without_samples_is_an_empty_result_not_none() -> None:
    """kube gave None, local an empty RegressionStats; one replica's own /stats says
    sample_count 0, so the merge says so too (get -o json shows the same shape either way)."""
    empty = {"min": None, "max": None, "avg": None, "sample_count": 0, "histogram": []}
    for docs in ([doc(0, None, empty)], [], [doc(0, None, None)]):
        tracker = merge_tracker(docs, "regression")
        assert tracker is not None
        assert tracker.regression_stats == RegressionStats(None, None, None, 0, ())


def test_disagreement_classes_are_sorted_by_name() -> None:
    """local sorted the classes, kube kept the order replicas answered in."""
    tracker = merge_tracker([doc(1, 1, classes={"b": 1}), doc(2, 1, classes={"a": 1, "b": 1})],
                            "classification")
    assert tracker is not None and tracker.class_distribution is not None
    assert list(tracker.class_distribution.items()) == [("a", 1), ("b", 2)]


def test_a_point_is_what_happened_between_two_scrapes() -> None:
    first = scrape(100.0, {"r1": doc(10, 2.0)})
    quiet = point(None, first, requested=2, ready=1, cpu_utilization=None)
    assert (quiet.request_rate, quiet.latency_ms, quiet.code_2xx) == (0.0, None, 0)
    second = scrape(105.0, {"r1": doc(20, 3.0), "r2": doc(5, 4.0)})  # r2 is new
    p = point(first, second, requested=2, ready=2, cpu_utilization=50.0)
    assert p.code_2xx == 15 and p.request_rate == 3.0
    assert p.latency_ms == (20 * 3.0 - 10 * 2.0 + 5 * 4.0) / 15
    assert (p.t, p.requested, p.ready, p.cpu_utilization) == (105.0, 2, 2, 50.0)


def test_disagreement_a_restarted_replica_counts_from_zero() -> None:
    """local diffed the merged totals, so a replica that restarted (counters back to 0)
    hid the requests the others served meanwhile; kube diffed per replica. Now: per replica."""
    before = scrape(0.0, {"r1": doc(10, 1.0, started=1.0), "r2": doc(4, 1.0)})
    after = scrape(2.0, {"r1": doc(3, 1.0, started=50.0), "r2": doc(6, 1.0)})
    p = point(before, after, requested=2, ready=2, cpu_utilization=None)
    assert p.code_2xx == 3 + 2
    assert p.request_rate == 2.5


def test_batching_totals_merge_and_weight_the_wait_by_samples() -> None:
    a = {"batching": {"batches": 2, "samples": 6, "avg_wait_ms": 1.0}}
    b = {"batching": {"batches": 1, "samples": 2, "avg_wait_ms": 5.0}}
    merged = merge_batching([a, b, {"batching": None}])
    assert merged is not None
    assert (merged.batches, merged.samples, merged.avg_wait_ms) == (3, 8, 2.0)
    assert merged.avg_batch_size == 8 / 3
    assert merge_batching([{"batching": None}, {}]) is None
