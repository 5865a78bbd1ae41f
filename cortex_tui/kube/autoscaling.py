"""`autoscale_on: in_flight` on Kubernetes: the cluster's own machinery, no controller of ours.

The HPA (autoscaling/v2) gets a `Pods` metric, `cortex_in_flight_requests`, with the target as
its `averageValue`, and a `behavior` mapped from the stabilisation and factor settings. The
metric reaches the HPA through Prometheus (a PodMonitor scrapes each replica's `/metrics`) and
prometheus-adapter (a rule that averages the gauge over `window`): `render -o DIR` writes both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubernetes.utils import parse_quantity

from cortex_tui.config.model import DEFAULT_SYNC_PERIOD, ApiSpec, Compute, Problem, Project
from cortex_tui.config.quantity import format_duration
from cortex_tui.kube import labels as L

METRIC = "cortex_in_flight_requests"


def average_value(target: float) -> str:
    """The target as a Kubernetes quantity, in milli-units when fractional ("2", "2500m")."""
    millis = round(target * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def hpa_metrics(compute: Compute) -> list[dict[str, Any]]:
    if compute.autoscale_on == "in_flight":
        return [{"type": "Pods", "pods": {
            "metric": {"name": METRIC},
            "target": {"type": "AverageValue",
                       "averageValue": average_value(compute.in_flight_target)},
        }}]
    return [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": compute.target_cpu_utilization}}}]


def _rules(window: float, percent: int, tolerance: float) -> dict[str, Any]:
    period = int(DEFAULT_SYNC_PERIOD)
    policies = [{"type": "Pods", "value": 1, "periodSeconds": period}]  # +-1 always allowed
    if percent > 0:
        policies.insert(0, {"type": "Percent", "value": percent, "periodSeconds": period})
    return {"stabilizationWindowSeconds": round(window), "selectPolicy": "Max",
            "policies": policies, "tolerance": f"{round(tolerance * 1000)}m"}


def hpa_behavior(compute: Compute) -> dict[str, Any] | None:
    """None for cpu (the HPA's defaults, as before); the settings' mapping for in_flight."""
    if compute.autoscale_on != "in_flight":
        return None
    return {
        "scaleUp": _rules(compute.upscale_stabilization,
                          round((compute.max_upscale_factor - 1) * 100),
                          compute.upscale_tolerance),
        "scaleDown": _rules(compute.downscale_stabilization,
                            round((1 - compute.max_downscale_factor) * 100),
                            compute.downscale_tolerance),
    }


def problems(project: Project) -> list[Problem]:
    """What the Kubernetes target cannot honour, positioned in cortex.yaml."""
    found = []
    windows: dict[float, ApiSpec] = {}
    for spec in project.apis:
        c = spec.compute
        if c.min_replicas == 0:
            found.append(project.problem(
                spec, "min_replicas", "must be greater than 0 on Kubernetes (got 0): the "
                "HorizontalPodAutoscaler cannot scale to zero; scale to zero works on the "
                "local target"))
        if c.autoscale_on == "in_flight":
            first = windows.setdefault(c.window, spec)
            if first is not spec and len(windows) > 1:
                found.append(project.problem(
                    spec, "window", f"on Kubernetes every in_flight API of a project averages "
                    f"over the same window (one prometheus-adapter rule); api "
                    f'"{next(iter(windows.values())).name}" uses '
                    f"{format_duration(next(iter(windows)))} (got {format_duration(c.window)})"))
    return found


def in_flight_apis(project: Project) -> list[ApiSpec]:
    return [s for s in project.apis if s.compute.autoscale_on == "in_flight"]


def pod_monitor(project: Project, namespace: str) -> dict[str, Any]:
    """Prometheus Operator's PodMonitor: scrape every in_flight API's replicas' /metrics."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": f"{project.deployment_name}-in-flight", "namespace": namespace,
                     "labels": {L.PART_OF: project.deployment_name, L.MANAGED_BY: L.MANAGER}},
        "spec": {
            "selector": {"matchExpressions": [{
                "key": L.NAME, "operator": "In",
                "values": [s.name for s in in_flight_apis(project)]}]},
            "podMetricsEndpoints": [{"port": L.PORT_NAME, "path": "/metrics",
                                     "interval": f"{int(DEFAULT_SYNC_PERIOD)}s"}],
        },
    }


def adapter_rules(project: Project) -> dict[str, Any]:
    """prometheus-adapter's custom metrics rule (its Helm chart's `rules.custom`): the gauge
    averaged over the APIs' window, per pod, as the HPA's `Pods` metric."""
    window = in_flight_apis(project)[0].compute.window
    return {"rules": {"custom": [{
        "seriesQuery": f'{METRIC}{{namespace!="",pod!=""}}',
        "resources": {"overrides": {"namespace": {"resource": "namespace"},
                                    "pod": {"resource": "pod"}}},
        "name": {"matches": f"^{METRIC}$", "as": METRIC},
        "metricsQuery": f"avg_over_time(<<.Series>>{{<<.LabelMatchers>>}}"
                        f"[{format_duration(window)}])",
    }]}}


def from_hpa(spec: dict[str, Any], compute: Compute) -> Compute:
    """`compute` with the autoscaling settings an HPA spec carries (the inverse of
    `hpa_metrics` and `hpa_behavior`): `scale` rewrites the HPA and must keep them."""
    for metric in spec.get("metrics") or []:
        pods = metric.get("pods") or {}
        if metric.get("type") == "Pods" and (pods.get("metric") or {}).get("name") == METRIC:
            value = (pods.get("target") or {}).get("averageValue")
            target = float(parse_quantity(value)) if value is not None else None
            return replace(compute, autoscale_on="in_flight", target_in_flight=target,
                           **_from_behavior(spec.get("behavior") or {}))
    return compute


def _from_behavior(behavior: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for side, word in (("scaleUp", "upscale"), ("scaleDown", "downscale")):
        rules = behavior.get(side) or {}
        if "stabilizationWindowSeconds" in rules:
            found[f"{word}_stabilization"] = float(rules["stabilizationWindowSeconds"])
        if "tolerance" in rules:
            found[f"{word}_tolerance"] = float(parse_quantity(rules["tolerance"]))
        percent = next((p["value"] for p in rules.get("policies") or []
                        if p.get("type") == "Percent"), 0)
        found[f"max_{word}_factor"] = 1 + percent / 100 if word == "upscale" else 1 - percent / 100
    return found
