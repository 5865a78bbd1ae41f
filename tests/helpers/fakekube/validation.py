"""Server-side defaults and the validation rules (422 Invalid) the fake enforces."""

from __future__ import annotations

import base64
import contextlib
import re
from typing import Any

from tests.helpers.fakekube import quantity
from tests.helpers.fakekube.resources import Resource, invalid

Obj = dict[str, Any]
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
CONFIGMAP_LIMIT = 1024 * 1024
_service_ips = iter(range(10, 60000))


# ---------------------------------------------------------------------------------- defaults
def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = str(container.get("image", ""))
    pull = "Always" if image.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", pull)
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    resources = container.setdefault("resources", {})
    for group in ("requests", "limits"):
        for name, value in list((resources.get(group) or {}).items()):
            with contextlib.suppress(ValueError):  # validation reports it
                resources[group][name] = quantity.canonical(value)


def _default_pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        _default_container(container)


def _default_deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    _default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))


def _default_service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if not spec.get("clusterIP"):
        n = next(_service_ips)
        spec["clusterIP"] = f"10.96.{n // 250}.{n % 250 + 1}"
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))


def default(res: Resource, obj: Obj) -> None:
    kind = res.kind
    if kind in ("Deployment", "ReplicaSet"):
        _default_deployment(obj) if kind == "Deployment" else _default_pod_spec(
            obj.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
        )
    elif kind == "Pod":
        _default_pod_spec(obj.setdefault("spec", {}))
    elif kind == "Service":
        _default_service(obj)
    elif kind == "Namespace":
        name = obj["metadata"].get("name", "")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})


def prepare_for_create(res: Resource, obj: Obj) -> None:
    """A client cannot set status on create (only the status subresource writes it)."""
    if "status" in res.subresources and res.kind not in ("Node", "Namespace"):
        # What the real server serialises for a fresh object (Go's non-omitempty fields).
        obj["status"] = {"Pod": {"phase": "Pending", "qosClass": "Burstable"},
                         "ReplicaSet": {"replicas": 0},
                         "HorizontalPodAutoscaler": {"desiredReplicas": 0}}.get(res.kind, {})


# -------------------------------------------------------------------------------- validation
def _name_problems(res: Resource, name: str) -> list[tuple[str, str]]:
    if not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    if res.kind in ("Service", "Namespace"):
        pattern, what = (_DNS1035_LABEL, "a DNS-1035 label") if res.kind == "Service" else (
            _DNS1123_LABEL, "a lowercase RFC 1123 label")
        limit = 63
    else:
        pattern, what, limit = _DNS1123_SUBDOMAIN, "a lowercase RFC 1123 subdomain", 253
    if not pattern.match(name) or len(name) > limit:
        return [("metadata.name", f'Invalid value: "{name}": must be {what}')]
    return []


def _container_problems(prefix: str, containers: list[Obj]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    names: set[str] = set()
    for i, container in enumerate(containers):
        where = f"{prefix}[{i}]"
        name = container.get("name")
        if not name:
            problems.append((f"{where}.name", "Required value"))
        elif name in names:
            problems.append((f"{where}.name", f'Duplicate value: "{name}"'))
        names.add(name or "")
        if not container.get("image"):
            problems.append((f"{where}.image", "Required value"))
        for group in ("requests", "limits"):
            for key, value in ((container.get("resources") or {}).get(group) or {}).items():
                try:
                    quantity.parse(value)
                except ValueError as exc:
                    problems.append((f"{where}.resources.{group}[{key}]", f"Invalid value: {exc}"))
    return problems


def _pod_spec_problems(prefix: str, spec: Obj) -> list[tuple[str, str]]:
    containers = spec.get("containers") or []
    if not containers:
        return [(f"{prefix}.containers", "Required value")]
    problems = _container_problems(f"{prefix}.containers", containers)
    problems += _container_problems(f"{prefix}.initContainers", spec.get("initContainers") or [])
    return problems


def _deployment_problems(obj: Obj, old: Obj | None) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    problems: list[tuple[str, str]] = []
    if not selector:
        problems.append(("spec.selector", "Required value"))
    elif any(labels.get(k) != v for k, v in selector.items()):
        problems.append(("spec.template.metadata.labels",
                         "Invalid value: `selector` does not match template `labels`"))
    if old is not None and (old.get("spec") or {}).get("selector") != spec.get("selector"):
        problems.append(("spec.selector", "Invalid value: field is immutable"))
    if spec.get("replicas", 0) < 0:
        problems.append(("spec.replicas", "Invalid value: must be greater than or equal to 0"))
    return problems + _pod_spec_problems("spec.template.spec", template.get("spec") or {})


def _service_problems(obj: Obj, old: Obj | None) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    problems: list[tuple[str, str]] = []
    if not spec.get("ports") and spec.get("type") != "ExternalName":
        problems.append(("spec.ports", "Required value"))
    if old is not None and old["spec"].get("clusterIP") != spec.get("clusterIP"):
        problems.append(("spec.clusterIP", "Invalid value: field is immutable"))
    return problems


def _configmap_problems(obj: Obj) -> list[tuple[str, str]]:
    # As the real server counts: values only (text, and binaryData decoded), keys not.
    size = sum(len(str(v).encode()) for v in (obj.get("data") or {}).values())
    for key, value in (obj.get("binaryData") or {}).items():
        try:
            size += len(base64.b64decode(value, validate=True))
        except ValueError:
            return [(f"binaryData[{key}]", "Invalid value: not base64")]
    if size > CONFIGMAP_LIMIT:
        return [("[]", f"Too long: must have at most {CONFIGMAP_LIMIT} bytes")]
    return []


def _hpa_problems(obj: Obj) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    problems = []
    if low < 1:
        problems.append(("spec.minReplicas", f"Invalid value: {low}: must be greater than or "
                         "equal to 1"))
    if high < low:
        problems.append(("spec.maxReplicas", f"Invalid value: {high}: must be greater than or "
                         "equal to `minReplicas`"))
    return problems


def validate(res: Resource, obj: Obj, old: Obj | None) -> None:
    name = obj["metadata"].get("name", "")
    problems = _name_problems(res, name)
    if res.kind == "Deployment":
        problems += _deployment_problems(obj, old)
    elif res.kind == "Pod":
        problems += _pod_spec_problems("spec", obj.get("spec") or {})
    elif res.kind == "Service":
        problems += _service_problems(obj, old)
    elif res.kind == "ConfigMap":
        problems += _configmap_problems(obj)
    elif res.kind == "HorizontalPodAutoscaler":
        problems += _hpa_problems(obj)
    if problems:
        raise invalid(res, name, problems)
