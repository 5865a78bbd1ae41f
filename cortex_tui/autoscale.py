"""The one autoscaling algorithm: a pure function plus the memory of its recommendations.

Each sync: `raw = signal / target` (replicas the load asks for); `rec = ceil(raw)`, held at
the current count inside the tolerance band; limited by the scale factors (a step of
`up_step` / `down_step` replicas is always allowed); clamped to [min, max]; then never below
the highest recommendation of the last `down_stabilization` seconds nor above the lowest of
the last `up_stabilization` seconds. An autoscaler that just started counts the current
count as recommended since it started, so a restart causes no scaling storm.

The same function serves both signals: `in_flight` (signal: the API's requests in flight,
target: per replica) and `cpu` (signal: the sum of the replicas' utilisation in percent of the
request, target: `target_cpu_utilization`, parameters of the Kubernetes HPA's defaults).
Every call returns a `Decision` that says which rule set the result.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from cortex_tui.config.model import Compute
from cortex_tui.config.quantity import format_duration
from cortex_tui.types import HPA, Decision


@dataclass(frozen=True)
class Policy:
    """The parameters of one API's autoscaler."""

    signal: str  # "in_flight" | "cpu"
    target: float  # per replica: requests in flight, or percent of the cpu request
    min_replicas: int
    max_replicas: int
    up_factor: float = 1.5
    down_factor: float = 0.75  # 0: no limit
    up_step: int = 1  # replicas a sync may always add, whatever the factor
    down_step: int = 1
    up_tolerance: float = 0.05
    down_tolerance: float = 0.05
    up_stabilization: float = 0.0  # s
    down_stabilization: float = 300.0  # s
    scale_to_zero_after: float = 300.0  # s without a request, when min_replicas is 0

    @classmethod
    def of(cls, compute: Compute) -> Policy:
        if compute.autoscale_on == "in_flight":
            return cls(
                "in_flight", compute.in_flight_target, compute.min_replicas,
                compute.max_replicas, compute.max_upscale_factor, compute.max_downscale_factor,
                1, 1, compute.upscale_tolerance, compute.downscale_tolerance,
                compute.upscale_stabilization, compute.downscale_stabilization,
                compute.scale_to_zero_after,
            )
        # The HPA's defaults: scale up by max(100 %, 4 pods) per sync, down by up to 100 %,
        # a 10 % tolerance, 5 minutes of scale-down stabilisation.
        return cls("cpu", float(compute.target_cpu_utilization), compute.min_replicas,
                   compute.max_replicas, up_factor=2.0, down_factor=0.0, up_step=4,
                   up_tolerance=0.1, down_tolerance=0.1)


@dataclass(frozen=True)
class Step:
    """What the stateless part of the algorithm decided, before stabilisation."""

    raw: float | None
    recommended: int
    held: bool
    limited: int
    limit: str
    bounded: int
    bound: str


def recommend(current: int, value: float | None, policy: Policy, low: int) -> Step:
    """The pure part: ratio, tolerance, factor limits and [low, max] bounds."""
    if value is None:
        raw, rec, held = None, current, False
    else:
        raw = max(value, 0.0) / policy.target
        rec, held = math.ceil(raw - 1e-9), False
        if current > 0 and rec != current:
            ratio = raw / current
            if 1 - policy.down_tolerance <= ratio <= 1 + policy.up_tolerance:
                rec, held = current, True
    limited, limit = rec, ""
    up_to = max(math.ceil(current * policy.up_factor), current + policy.up_step)
    down_to = min(math.floor(current * policy.down_factor), current - policy.down_step)
    if rec > up_to:
        limited, limit = up_to, "max_upscale_factor"
    elif rec < down_to:
        limited, limit = max(down_to, 0), "max_downscale_factor"
    bounded, bound = limited, ""
    if limited > policy.max_replicas:
        bounded, bound = policy.max_replicas, "max_replicas"
    elif limited < low:
        bounded, bound = low, "min_replicas"
    return Step(raw, rec, held, limited, limit, bounded, bound)


class Autoscaler:
    """One API's autoscaler: `decide` per sync; remembers recent recommendations."""

    def __init__(self, policy: Policy, started: float, current: int) -> None:
        self.policy = policy
        # The start-up rule: the count running at start counts as recommended since then.
        self._seed = (started, current)
        self._history: deque[tuple[float, int]] = deque()

    def update(self, policy: Policy) -> None:
        """New bounds or settings (`scale`, a redeploy): the history stays."""
        self.policy = policy

    def decide(self, now: float, current: int, value: float | None,
               idle_for: float = 0.0) -> Decision:
        """Replicas to run given the API-wide signal; `idle_for`: seconds since the API's
        last request (scale to zero waits `scale_to_zero_after` of it)."""
        p = self.policy
        low, note = p.min_replicas, ""
        if low == 0 and idle_for < p.scale_to_zero_after:
            low = 1
            if value is not None and math.ceil(max(value, 0.0) / p.target - 1e-9) == 0:
                note = (f"kept 1 for scale to zero: last request {format_duration(idle_for)} "
                        f"ago, scale_to_zero_after {format_duration(p.scale_to_zero_after)}")
        step = recommend(current, value, p, low)
        self._history.append((now, step.bounded))
        horizon = now - max(p.up_stabilization, p.down_stabilization)
        while self._history and self._history[0][0] <= horizon:
            self._history.popleft()
        rec = step.bounded
        final = self._stabilized(now, current, rec, [self._seed, *self._history])
        stabilized = ""
        if final != rec:
            stabilized = "upscale_stabilization" if rec > current else "downscale_stabilization"
            if self._stabilized(now, current, rec, list(self._history)) == rec:
                stabilized = "start"  # only the start-up rule held it back
        return Decision(now, p.signal, value, p.target, current, step.raw, step.recommended,
                        step.held, step.limit, step.bound, stabilized, final, note)

    def _stabilized(self, now: float, current: int, rec: int,
                    history: list[tuple[float, int]]) -> int:
        """current, raised to the lowest recommendation of the upscale window and lowered to
        the highest of the downscale window (`rec`, the newest, is in both)."""
        p = self.policy
        ceiling = min((r for t, r in history if t > now - p.up_stabilization), default=rec)
        floor = max((r for t, r in history if t > now - p.down_stabilization), default=rec)
        return min(max(current, min(ceiling, rec)), max(floor, rec))


def hpa_decision(t: float, words: str) -> Decision:
    """A Kubernetes HPA's event or condition, as a decision record (its numbers are the
    cluster's: only its words are known)."""
    return Decision(t, HPA, None, 0.0, 0, None, 0, note=words)


def woke(now: float, policy: Policy, to: int) -> Decision:
    """The decision recorded when a request arrives at an API scaled to zero."""
    return Decision(now, policy.signal, None, policy.target, 0, None, to, final=to,
                    note="a request arrived while scaled to zero")
