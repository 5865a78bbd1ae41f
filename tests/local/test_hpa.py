"""The cpu signal as the HPA measures it (the algorithm itself: tests/test_autoscale.py)."""

from __future__ import annotations

from cortex_tui.local.hpa import utilization_with_missing


def test_replicas_without_samples_damp_the_decision() -> None:
    # one busy replica and two still starting: the starting ones count as idle
    assert utilization_with_missing([240.0], 2, 80) == 80.0
    # on the way down, replicas without a sample count as fully busy (100 % of the request)
    assert utilization_with_missing([0.0], 1, 80) == 50.0
    assert utilization_with_missing([60.0], 3, 80) == 80.0  # that flips the direction: no change
    assert utilization_with_missing([10.0, 10.0], 0, 80) == 10.0
    assert utilization_with_missing([], 3, 80) is None
