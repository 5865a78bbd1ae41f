"""SPEC §6 status of an API from its Deployment, ReplicaSets, Pods and HPA (plain dicts)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cortex_tui.config.model import ApiSpec, Compute
from cortex_tui.kube import labels as L
from cortex_tui.kube.autoscaling import from_hpa
from cortex_tui.types import ApiState, Status

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
FAILING_WAIT_REASONS = {
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
}


@dataclass
class ApiObjects:
    """Everything live about one API."""

    name: str
    deployment: Obj | None = None
    hpa: Obj | None = None
    replicasets: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)


def _annotations(obj: Obj | None) -> dict[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def current_replicaset(objs: ApiObjects) -> Obj | None:
    revision = _annotations(objs.deployment).get(REVISION)
    if revision is None:
        return None
    return next((r for r in objs.replicasets if _annotations(r).get(REVISION) == revision), None)


def is_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def observed(deployment: Obj | None) -> bool:
    """Has the Deployment controller seen the latest spec? Until then its revision (and so
    which pods are up to date) describes the previous version."""
    if deployment is None:
        return False
    generation = deployment["metadata"].get("generation") or 0
    return ((deployment.get("status") or {}).get("observedGeneration") or 0) >= generation


def current_pods(objs: ApiObjects) -> list[Obj]:
    replicaset = current_replicaset(objs) if observed(objs.deployment) else None
    if replicaset is None:
        return []
    hash_ = (replicaset["metadata"].get("labels") or {}).get(HASH_LABEL)
    return [
        p for p in objs.pods
        if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == hash_
        and not p["metadata"].get("deletionTimestamp")
    ]


def _container_statuses(pod: Obj) -> list[Obj]:
    status = pod.get("status") or {}
    return (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])


def _terminated(container: Obj) -> Obj:
    return ((container.get("state") or {}).get("terminated")
            or (container.get("lastState") or {}).get("terminated") or {})


def out_of_memory(pods: list[Obj]) -> str | None:
    for pod in pods:
        for container in _container_statuses(pod):
            if _terminated(container).get("reason") == "OOMKilled":
                return (f"replica {pod['metadata']['name']} ran out of memory (container "
                        f"{container['name']} was OOMKilled)")
    return None


def failure(pods: list[Obj]) -> str | None:
    """The termination message of a failing container, else the reason it is waiting."""
    for pod in pods:
        for container in _container_statuses(pod):
            waiting = (container.get("state") or {}).get("waiting") or {}
            terminated = _terminated(container)
            failed_exit = terminated.get("exitCode") not in (None, 0)
            if waiting.get("reason") in FAILING_WAIT_REASONS or (
                failed_exit and "terminated" in (container.get("state") or {})
            ):
                # The replica writes one line; a crash without one leaves the last log lines
                # (FallbackToLogsOnError), whose last line names the error.
                lines = [line for line in (terminated.get("message") or "").splitlines()
                         if line.strip()]
                if lines:
                    return lines[-1].strip()
                reason = waiting.get("reason") or terminated.get("reason") or "Error"
                detail = waiting.get("message") or f"exit code {terminated.get('exitCode')}"
                return f"{reason}: {detail}"
    return None


def refused(replicaset: Obj | None) -> str | None:
    """Why the ReplicaSet creates no pod: admission refused it (Pod Security, ResourceQuota)."""
    for condition in ((replicaset or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return f"no replica can be created: {condition.get('message') or 'FailedCreate'}"
    return None


def unschedulable(pods: list[Obj]) -> str | None:
    for pod in pods:
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if (condition.get("type"), condition.get("status"), condition.get("reason")) == (
                "PodScheduled", "False", "Unschedulable"
            ):
                return condition.get("message") or "no node has room for a replica"
    return None


def _deadline_exceeded(deployment: Obj) -> str | None:
    for condition in (deployment.get("status") or {}).get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            return condition.get("message") or "the rollout made no progress"
    return None


def bounds(objs: ApiObjects) -> Compute:
    """Autoscaling bounds: the HPA's (the live truth), else the defaults."""
    spec = (objs.hpa or {}).get("spec") or {}
    target = Compute().target_cpu_utilization
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            target = (resource.get("target") or {}).get("averageUtilization") or target
    low = spec.get("minReplicas", 1)
    return from_hpa(spec, Compute(min_replicas=low, max_replicas=spec.get("maxReplicas",
                                                                          max(low, 1)),
                                  init_replicas=low, target_cpu_utilization=target))


def _failed_count(pods: list[Obj]) -> int:
    return sum(
        1 for p in pods
        if (p.get("status") or {}).get("phase") == "Failed"
        or (not is_ready(p) and any(c.get("restartCount", 0) > 0 for c in _container_statuses(p)))
    )


def status_of(objs: ApiObjects, pods: list[Obj], available: int, low: int) -> tuple[Status, str]:
    if objs.deployment is None or objs.deployment["metadata"].get("deletionTimestamp"):
        return Status.STOPPING, ""
    if available >= max(low, 1):
        return Status.LIVE, ""
    if message := out_of_memory(pods):
        return Status.OUT_OF_MEMORY, message
    if message := failure(pods) or _deadline_exceeded(objs.deployment):
        return Status.ERROR, message
    if observed(objs.deployment) and (message := refused(current_replicaset(objs))):
        return Status.ERROR, message
    if message := unschedulable(pods):
        return Status.COMPUTE_UNAVAILABLE, message
    return Status.UPDATING, ""


def api_state(objs: ApiObjects, endpoint: str | None) -> ApiState:
    compute = bounds(objs)
    pods = current_pods(objs)
    available = sum(1 for p in pods if is_ready(p))
    status, message = status_of(objs, pods, available, compute.min_replicas)
    deployment = objs.deployment or {}
    updated_at = _annotations(deployment).get(L.UPDATED_AT)
    requested = (deployment.get("spec") or {}).get("replicas", 0)
    if status is Status.STOPPING:
        requested = 0
    return ApiState(
        name=objs.name,
        status=status,
        message=message,
        up_to_date=len(pods),
        available=available,
        requested=requested,
        failed=_failed_count(pods),
        min_replicas=compute.min_replicas,
        max_replicas=compute.max_replicas,
        init_replicas=compute.init_replicas,
        target_cpu_utilization=compute.target_cpu_utilization,
        autoscale_on=compute.autoscale_on,
        target_in_flight=compute.target_in_flight,
        endpoint=endpoint if status is not Status.STOPPING else None,
        last_update=float(updated_at) if updated_at else None,
    )


def api_config(deployment: Obj | None) -> ApiSpec | None:
    """The API's validated config as the Deployment's annotation carries it (None without)."""
    text = _annotations(deployment).get(L.API_SPEC)
    return ApiSpec.from_dict(json.loads(text)) if text else None


def tracker_type(deployment: Obj | None) -> str | None:
    """The model type the API's tracker was deployed with (None: no tracker)."""
    spec = api_config(deployment)
    return spec.tracker.model_type if spec is not None and spec.tracker is not None else None


def hpa_cpu(hpa: Obj | None) -> float | None:
    for metric in ((hpa or {}).get("status") or {}).get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            value = (resource.get("current") or {}).get("averageUtilization")
            return None if value is None else float(value)
    return None
