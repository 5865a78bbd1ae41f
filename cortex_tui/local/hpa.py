"""The Kubernetes HorizontalPodAutoscaler algorithm, as a pure function plus its memory.

desired = ceil(current * utilisation / target), unchanged within a 10 % tolerance; scale-up
limited to max(2 * current, current + 4) per sync (Kubernetes' default policy); scale-down
stabilised: the highest recommendation of the last `window` seconds wins.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

TOLERANCE = 0.1


def raw_recommendation(current: int, utilization: float, target: int) -> int:
    ratio = utilization / target
    if abs(ratio - 1.0) <= TOLERANCE:
        return current
    return max(1, math.ceil(current * ratio))


def utilization_with_missing(known: list[float], missing: int, target: int) -> float | None:
    """Average utilisation, counting replicas without a sample (starting, just ready) as
    Kubernetes does: 0 % when the others ask to scale up, 100 % when they ask to scale down;
    if that flips the direction, the target (no change)."""
    if not known:
        return None
    base = sum(known) / len(known)
    if missing <= 0 or abs(base / target - 1.0) <= TOLERANCE:
        return base
    filler = 0.0 if base > target else 100.0
    adjusted = (sum(known) + filler * missing) / (len(known) + missing)
    if (adjusted > target) != (base > target):
        return float(target)
    return adjusted


@dataclass
class Autoscaler:
    window: float
    _recommendations: deque[tuple[float, int]] = field(default_factory=deque)

    def assume(self, now: float, replicas: int) -> None:
        """Count `replicas` as recommended for the whole window (an operator that restarts
        has no history: without this, its first sync could scale down at once)."""
        self._recommendations.append((now - self.window, replicas))
        self._recommendations.append((now, replicas))

    def decide(
        self, now: float, current: int, utilization: float | None, low: int, high: int, target: int
    ) -> int:
        """Replicas to run, given the average CPU utilisation (percent of the request)."""
        if utilization is None:
            desired = current
        else:
            desired = raw_recommendation(current, utilization, target)
        desired = min(max(desired, low), high)
        self._recommendations.append((now, desired))
        while self._recommendations and self._recommendations[0][0] < now - self.window:
            self._recommendations.popleft()
        if desired < current:
            stabilised = max(r for _, r in self._recommendations)
            return min(max(stabilised, low), high, current)
        if desired > current:
            return min(desired, max(2 * current, current + 4), high)
        return min(max(current, low), high)
