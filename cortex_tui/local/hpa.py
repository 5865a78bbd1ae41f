"""The cpu signal as the Kubernetes HorizontalPodAutoscaler measures it (the algorithm that
turns it into replicas is `cortex_tui.autoscale`, shared with the in-flight signal)."""

from __future__ import annotations

TOLERANCE = 0.1


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
