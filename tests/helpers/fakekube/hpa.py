"""The fake's HorizontalPodAutoscaler controller (autoscaling/v2), as kube-controller-manager
computes it: a `Resource` cpu metric or a `Pods` metric against its target, the tolerance,
then `behavior` (stabilisation windows over past recommendations, Percent and Pods policies
over `periodSeconds` of past scale events, `selectPolicy`), then min/max.

Without `behavior` it keeps this fake's earlier shortcut (no stabilisation, no rate limit), so
tests of the cpu path stay fast. Inputs are set by the test: `FakeKube.set_cpu` (average
utilisation) and `FakeKube.set_pods_metric` (the API-wide total, spread over the pods).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from kubernetes.utils import parse_quantity

from tests.helpers.fakekube.resources import by_kind
from tests.helpers.fakekube.store import now_iso

if TYPE_CHECKING:
    from tests.helpers.fakekube.fake import FakeKube

Obj = dict[str, Any]
DEPLOYMENT = by_kind("Deployment")
HPA = by_kind("HorizontalPodAutoscaler")
DEFAULT_TOLERANCE = 0.1


class HpaController:
    def __init__(self, fake: FakeKube) -> None:
        self.fake = fake
        self.store = fake.store
        self._recommendations: dict[str, list[tuple[float, int]]] = {}  # uid -> (t, replicas)
        self._scale_events: dict[str, list[tuple[float, int]]] = {}  # uid -> (t, change)

    def autoscale(self, hpa: Obj) -> None:
        meta, spec = hpa["metadata"], hpa["spec"]
        target = spec["scaleTargetRef"]
        deployment = self.store.find(DEPLOYMENT, meta["namespace"], target["name"])
        if deployment is None or meta.get("deletionTimestamp"):
            return
        current = deployment["spec"].get("replicas", 1)
        low, high = spec.get("minReplicas", 1), spec["maxReplicas"]
        behavior = spec.get("behavior")
        observed = self._observe(hpa, current)
        desired, reason = current, ""
        if observed is not None:
            ratio, reason = observed
            up = ratio > 1
            tolerance = _tolerance(behavior, "scaleUp" if up else "scaleDown")
            if abs(ratio - 1) > tolerance:
                desired = math.ceil(current * ratio)
        if behavior is not None:
            desired = self._with_behavior(meta["uid"], behavior, current, desired)
        desired = min(max(desired, low), high)
        if desired != current:
            self._scale(hpa, deployment, current, desired, reason)
        self._status(hpa, deployment, desired, desired != current)

    def _observe(self, hpa: Obj, current: int) -> tuple[float, str] | None:
        """The usage ratio (value / target) of the HPA's metric, and its words."""
        key = (hpa["metadata"]["namespace"], hpa["metadata"]["name"])
        for metric in hpa["spec"].get("metrics") or []:
            if metric.get("type") == "Pods":
                pods = metric["pods"]
                total = self.fake.pods_metrics.get((*key, pods["metric"]["name"]))
                goal = float(parse_quantity(pods["target"]["averageValue"]))
                if total is None or not goal or not current:
                    return None
                return (total / current) / goal, f"pods metric {pods['metric']['name']}"
            if metric.get("type") == "Resource" and metric["resource"]["name"] == "cpu":
                utilization = self.fake.cpu_utilization.get(key)
                goal = metric["resource"]["target"].get("averageUtilization") or 80
                if utilization is None:
                    return None
                return utilization / goal, "cpu resource utilization (percentage of request)"
        return None

    def _with_behavior(self, uid: str, behavior: Obj, current: int, desired: int) -> int:
        now = time.monotonic()
        history = self._recommendations.setdefault(uid, [])
        history.append((now, desired))
        up_rules, down_rules = behavior.get("scaleUp") or {}, behavior.get("scaleDown") or {}
        up_window = up_rules.get("stabilizationWindowSeconds", 0)
        down_window = down_rules.get("stabilizationWindowSeconds", 300)
        history[:] = [(t, r) for t, r in history if t > now - max(up_window, down_window, 1)]
        up_rec = min([r for t, r in history if t > now - up_window] or [desired])
        down_rec = max([r for t, r in history if t > now - down_window] or [desired])
        stabilized = min(max(current, up_rec), down_rec)
        if stabilized > current:
            return min(stabilized, self._limit(uid, up_rules, current, now, up=True))
        if stabilized < current:
            return max(stabilized, self._limit(uid, down_rules, current, now, up=False))
        return current

    def _limit(self, uid: str, rules: Obj, current: int, now: float, up: bool) -> int:
        """The furthest the policies allow from the count at the start of each period."""
        events = self._scale_events.get(uid, [])
        allowed = []
        for policy in rules.get("policies") or []:
            period = policy.get("periodSeconds", 15)
            moved = sum(c for t, c in events if t > now - period and (c > 0) == up)
            start = current - moved
            if policy["type"] == "Pods":
                allowed.append(start + policy["value"] if up else start - policy["value"])
            elif up:
                allowed.append(math.ceil(start * (1 + policy["value"] / 100)))
            else:
                allowed.append(int(start * (1 - policy["value"] / 100)))
        if not allowed:
            return current + 4 if up else 0
        pick = rules.get("selectPolicy", "Max")
        if pick == "Disabled":
            return current
        if up:
            return max(allowed) if pick == "Max" else min(allowed)
        return min(allowed) if pick == "Max" else max(allowed)

    def _scale(self, hpa: Obj, deployment: Obj, current: int, desired: int, reason: str) -> None:
        meta = hpa["metadata"]

        def scale(obj: Obj) -> None:
            obj["spec"]["replicas"] = desired

        self.store.mutate(DEPLOYMENT, meta["namespace"], deployment["metadata"]["name"], scale)
        self._scale_events.setdefault(meta["uid"], []).append((time.monotonic(),
                                                                desired - current))
        key = (meta["namespace"], meta["name"])
        if key in self.fake.cpu_utilization:  # the same load spread over the new count
            self.fake.cpu_utilization[key] = round(
                self.fake.cpu_utilization[key] * current / desired)
        direction = "above" if desired > current else "below"
        self.fake.events.record(hpa, "SuccessfulRescale",
                                f"New size: {desired}; reason: {reason} {direction} target",
                                component="horizontal-pod-autoscaler")

    def _status(self, hpa: Obj, deployment: Obj, desired: int, scaled: bool) -> None:
        old = hpa.get("status") or {}
        meta = hpa["metadata"]
        status: Obj = {
            "currentReplicas": (deployment.get("status") or {}).get("replicas", 0),
            "desiredReplicas": desired,
            "observedGeneration": meta.get("generation", 1),
        }
        utilization = self.fake.cpu_utilization.get((meta["namespace"], meta["name"]))
        if utilization is not None:
            status["currentMetrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": utilization}}}]
        last = now_iso() if scaled else old.get("lastScaleTime")
        if last:
            status["lastScaleTime"] = last
        status["conditions"] = [
            {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
             "lastTransitionTime": (old.get("conditions") or [{}])[0].get("lastTransitionTime")
             or now_iso()},
        ]
        if status != old:
            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(HPA, meta["namespace"], meta["name"], write, "status")


def _tolerance(behavior: Obj | None, side: str) -> float:
    value = ((behavior or {}).get(side) or {}).get("tolerance")
    return DEFAULT_TOLERANCE if value is None else float(parse_quantity(value))
