"""The HPA algorithm's rules (Kubernetes semantics), on the pure functions."""

from __future__ import annotations

from cortex_tui.local.hpa import Autoscaler, raw_recommendation, utilization_with_missing


def test_recommendation_follows_the_kubernetes_formula() -> None:
    assert raw_recommendation(2, 160, 80) == 4  # ceil(2 * 160 / 80)
    assert raw_recommendation(3, 100, 80) == 4  # ceil(3.75)
    assert raw_recommendation(4, 85, 80) == 4  # within the 10 % tolerance
    assert raw_recommendation(4, 20, 80) == 1


def test_scale_up_is_immediate_but_bounded() -> None:
    hpa = Autoscaler(window=300)
    assert hpa.decide(0, 1, 1000, low=1, high=100, target=50) == 5  # max(2x, +4) per sync
    assert hpa.decide(15, 1, 1000, low=1, high=3, target=50) == 3  # max_replicas caps it
    assert hpa.decide(30, 2, None, low=3, high=5, target=50) == 3  # min_replicas floors it


def test_scale_down_waits_for_the_stabilisation_window() -> None:
    hpa = Autoscaler(window=60)
    assert hpa.decide(0, 4, 80, low=1, high=10, target=80) == 4
    assert hpa.decide(15, 4, 10, low=1, high=10, target=80) == 4  # 4 was recommended 15 s ago
    assert hpa.decide(45, 4, 10, low=1, high=10, target=80) == 4
    assert hpa.decide(61, 4, 10, low=1, high=10, target=80) == 1  # the window has passed


def test_a_restarted_autoscaler_waits_a_full_window_before_scaling_down() -> None:
    hpa = Autoscaler(window=60)
    hpa.assume(1000, 4)  # the operator restarted with 4 replicas requested
    assert hpa.decide(1000, 4, 0, low=1, high=10, target=80) == 4
    assert hpa.decide(1059, 4, 0, low=1, high=10, target=80) == 4
    assert hpa.decide(1061, 4, 0, low=1, high=10, target=80) == 1
    assert hpa.decide(1062, 1, 800, low=1, high=10, target=80) == 5  # scale-up stays immediate


def test_replicas_without_samples_damp_the_decision() -> None:
    # one busy replica and two still starting: the starting ones count as idle
    assert utilization_with_missing([240.0], 2, 80) == 80.0
    # on the way down, replicas without a sample count as fully busy (100 % of the request)
    assert utilization_with_missing([0.0], 1, 80) == 50.0
    assert utilization_with_missing([60.0], 3, 80) == 80.0  # that flips the direction: no change
    assert utilization_with_missing([10.0, 10.0], 0, 80) == 10.0
    assert utilization_with_missing([], 3, 80) is None
