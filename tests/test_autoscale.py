"""The autoscaling algorithm, rule by rule, with the decision record each sync leaves."""

from __future__ import annotations

from dataclasses import replace

from cortex_tui.autoscale import Autoscaler, Policy, recommend, woke
from cortex_tui.config.model import Compute
from cortex_tui.types import Decision

# in_flight with the defaults, no stabilisation unless a test sets it
P = Policy("in_flight", target=2.0, min_replicas=1, max_replicas=10, down_stabilization=0.0)


def scaler(policy: Policy = P, current: int = 2, started: float = -1000.0) -> Autoscaler:
    return Autoscaler(policy, started, current)


def test_recommendation_is_the_ceiling_of_signal_over_target() -> None:
    d = scaler(current=2).decide(0, 2, 5.0)
    assert (d.raw, d.recommended, d.final) == (2.5, 3, 3)
    assert d.summary() == "scaled 2 → 3: in-flight 5 / target 2 = 2.5"
    assert scaler(current=3).decide(0, 3, 6.0).final == 3  # exactly on target: no move


def test_inside_the_tolerance_band_the_count_is_held() -> None:
    d = scaler(current=4).decide(0, 4, 8.3)  # 4.15 replicas: +3.75 %, inside 5 %
    assert (d.recommended, d.held, d.final) == (4, True, 4)
    assert "within tolerance" in d.summary()
    assert scaler(current=4).decide(0, 4, 8.5).final == 5  # +6.25 %: outside
    assert scaler(current=4).decide(0, 4, 7.7).final == 4  # -3.75 %: inside
    wide = replace(P, down_tolerance=0.3)
    assert scaler(wide, current=4).decide(0, 4, 5.7).held  # the two sides are separate


def test_upscale_is_capped_by_its_factor_but_one_more_is_always_allowed() -> None:
    d = scaler(current=2).decide(0, 2, 15.6)  # 7.8 replicas wanted; 2 * 1.5 = 3
    assert (d.recommended, d.final, d.limit) == (8, 3, "max_upscale_factor")
    assert d.summary() == ("scaled 2 → 3: in-flight 15.6 / target 2 = 7.8, "
                           "capped by max_upscale_factor")
    assert scaler(current=1).decide(0, 1, 20.0).final == 2  # 1 * 1.5 rounds to 2: +1
    assert scaler(replace(P, up_factor=1.0), current=3).decide(0, 3, 20.0).final == 4


def test_downscale_is_capped_by_its_factor_but_one_less_is_always_allowed() -> None:
    d = scaler(current=8).decide(0, 8, 2.0)  # 1 wanted; 8 * 0.75 = 6
    assert (d.final, d.limit) == (6, "max_downscale_factor")
    assert scaler(current=2).decide(0, 2, 0.0).final == 1  # 1.5 floors to 1: -1 anyway


def test_min_and_max_replicas_clamp_after_the_factors() -> None:
    d = scaler(replace(P, max_replicas=3), current=2).decide(0, 2, 20.0)
    assert (d.final, d.limit, d.bound) == (3, "max_upscale_factor", "")
    d = scaler(replace(P, max_replicas=4), current=3).decide(0, 3, 20.0)
    assert (d.final, d.bound) == (4, "max_replicas")
    d = scaler(replace(P, min_replicas=2), current=2).decide(0, 2, 0.0)
    assert (d.final, d.bound) == (2, "min_replicas")
    assert "clamped to min_replicas" in d.summary()


def test_downscale_stabilisation_keeps_the_highest_recent_recommendation() -> None:
    a = scaler(replace(P, down_stabilization=60.0), current=4)
    assert a.decide(0, 4, 8.0).final == 4
    d = a.decide(15, 4, 2.0)  # 1 wanted (3 after the factor), but 4 was recommended 15 s ago
    assert (d.final, d.stabilized) == (4, "downscale_stabilization")
    assert "held by downscale_stabilization" in d.summary()
    assert a.decide(45, 4, 2.0).final == 4
    assert a.decide(61, 4, 2.0).final == 3  # the window passed: down, by the factor


def test_upscale_stabilisation_keeps_the_lowest_recent_recommendation() -> None:
    a = scaler(replace(P, up_stabilization=30.0), current=2)
    assert a.decide(0, 2, 4.0).final == 2
    d = a.decide(10, 2, 6.0)
    assert (d.recommended, d.final, d.stabilized) == (3, 2, "upscale_stabilization")
    assert a.decide(31, 2, 6.0).final == 3


def test_a_started_autoscaler_waits_a_stabilisation_period_in_each_direction() -> None:
    policy = replace(P, down_stabilization=300.0, up_stabilization=20.0)
    a = Autoscaler(policy, 1000.0, 4)  # e.g. an operator restart with 4 replicas running
    d = a.decide(1001, 4, 0.0)
    assert (d.final, d.stabilized) == (4, "start")
    assert "the autoscaler started" in d.summary()
    d = a.decide(1010, 4, 20.0)  # the low wish of t=1001 is in the upscale window
    assert (d.final, d.stabilized) == (4, "upscale_stabilization")
    assert a.decide(1021, 4, 20.0).final == 6
    assert a.decide(1299, 6, 0.0).final == 6  # the 10-replica wish of t=1021 still counts
    up = Autoscaler(replace(P, up_stabilization=20.0), 1000.0, 4)
    assert (up.decide(1010, 4, 20.0).stabilized, up.decide(1021, 4, 20.0).final) == ("start", 6)
    fresh = Autoscaler(replace(P, down_stabilization=300.0), 1000.0, 4)
    assert fresh.decide(1301, 4, 0.0).final == 3  # a full period after start: free to move


def test_no_sample_keeps_the_count() -> None:
    d = scaler(current=3).decide(0, 3, None)
    assert (d.final, d.raw) == (3, None)
    assert d.summary() == "kept 3: in-flight: no sample yet"


def test_scale_to_zero_waits_for_scale_to_zero_after_without_a_request() -> None:
    zero = replace(P, min_replicas=0, scale_to_zero_after=300.0)
    d = scaler(zero, current=1).decide(0, 1, 0.0, idle_for=120.0)
    assert (d.final, d.bound) == (1, "min_replicas")
    assert "kept 1 for scale to zero: last request 2m ago, scale_to_zero_after 5m" in d.summary()
    d = scaler(zero, current=1).decide(0, 1, 0.0, idle_for=301.0)
    assert d.final == 0
    assert d.summary() == "scaled 1 → 0: in-flight 0 / target 2 = 0"
    assert scaler(zero, current=0).decide(0, 0, 0.0, idle_for=900.0).final == 0


def test_from_zero_any_load_asks_for_replicas_and_no_tolerance_applies() -> None:
    zero = replace(P, min_replicas=0)
    assert scaler(zero, current=0).decide(0, 0, 0.1).final == 1
    assert scaler(zero, current=0).decide(0, 0, 9.0).final == 1  # +1 always; 0 * 1.5 = 0
    d = woke(5.0, zero, 1)
    assert (d.current, d.final) == (0, 1)
    assert d.summary() == "scaled 0 → 1: in-flight: no sample yet, a request arrived while " \
        "scaled to zero"


def test_cpu_keeps_the_kubernetes_hpa_defaults() -> None:
    cpu = Policy.of(Compute(min_replicas=1, max_replicas=100, target_cpu_utilization=80))
    # desired = ceil(current * utilisation / target): the signal is the sum over replicas
    assert recommend(2, 2 * 160.0, cpu, 1).bounded == 4
    assert recommend(4, 4 * 85.0, cpu, 1).held  # 10 % tolerance
    assert recommend(1, 1000.0, cpu, 1).bounded == 5  # max(2x, +4) per sync
    assert recommend(4, 4 * 5.0, cpu, 1).bounded == 1  # down: no factor limit
    a = Autoscaler(cpu, 0.0, 4)
    assert a.decide(61, 4, 40.0).final == 4  # 5 minutes of scale-down stabilisation
    assert a.decide(301, 4, 40.0).final == 1
    assert a.decide(301, 4, 40.0).arithmetic() == "cpu 40% / target 80% = 0.5"


def test_policy_of_in_flight_compute_uses_its_settings() -> None:
    c = Compute(autoscale_on="in_flight", threads_per_replica=3, max_upscale_factor=2.0,
                downscale_stabilization=10.0, min_replicas=0)
    p = Policy.of(c)
    assert (p.target, p.up_factor, p.down_stabilization, p.min_replicas) == (3.0, 2.0, 10.0, 0)
    assert Policy.of(replace(c, target_in_flight=0.5)).target == 0.5


def test_decisions_survive_json() -> None:
    d = scaler(current=2).decide(7.0, 2, 15.6)
    data = d.to_json()
    assert data["summary"].startswith("scaled 2 → 3")
    assert Decision.from_json(data) == d
