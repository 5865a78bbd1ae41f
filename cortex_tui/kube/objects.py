"""Typed client calls for the object kinds we manage, behind one small uniform interface.

Everything above this module works with plain manifest dicts (camelCase, as in the templates).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from cortex_tui.errors import BackendError, TargetUnavailable
from cortex_tui.kube.client import Connection, unreachable

T = TypeVar("T")
Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str  # Connection property holding the typed API
    snake: str  # the name in the client's method names
    model: type


KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind("ConfigMap", "core", "config_map", k8s.V1ConfigMap),
        Kind("Deployment", "apps", "deployment", k8s.V1Deployment),
        Kind("Service", "core", "service", k8s.V1Service),
        Kind("HorizontalPodAutoscaler", "autoscaling", "horizontal_pod_autoscaler",
             k8s.V2HorizontalPodAutoscaler),
        Kind("Ingress", "networking", "ingress", k8s.V1Ingress),
        Kind("PodDisruptionBudget", "policy", "pod_disruption_budget",
             k8s.V1PodDisruptionBudget),
        Kind("NetworkPolicy", "networking", "network_policy", k8s.V1NetworkPolicy),
    )
}
# Deleting an API removes its objects in this order (the Deployment first stops the pods).
DELETE_ORDER = ("HorizontalPodAutoscaler", "Deployment", "PodDisruptionBudget", "Service",
                "Ingress", "NetworkPolicy", "ConfigMap")


class Forbidden(BackendError):
    """The cluster refused our credentials for this call (401 / 403)."""


def status_reason(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


def unexpected(exc: ApiException) -> BackendError:
    """An answer no caller handles (a 500, a 429...) in plain words, not a client traceback."""
    return BackendError(
        f"the cluster answered {exc.status} {exc.reason or ''}: {status_reason(exc)}".replace(
            "  ", " ")
    )


def call(what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a client call; unreachable clusters and refusals become BackendErrors."""
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 401:
            raise Forbidden(
                f"{what}: the cluster does not accept your credentials (401 Unauthorized): "
                "they may have expired; log in again (e.g. refresh your kubeconfig's token)"
            ) from None
        if exc.status == 403:
            reason = status_reason(exc)
            raise Forbidden(f"{what}: not allowed by the cluster: {reason}") from None
        raise
    except (HTTPError, OSError) as exc:
        raise TargetUnavailable(f"{what}: {unreachable(exc)}") from None


def to_dict(conn: Connection, obj: Any) -> Obj:
    return conn.api_client.sanitize_for_serialization(obj)


def _method(conn: Connection, verb: str, kind: Kind) -> Callable[..., Any]:
    return getattr(getattr(conn, kind.group), f"{verb}_namespaced_{kind.snake}")


def read(conn: Connection, kind: str, name: str) -> Obj | None:
    spec = KINDS[kind]
    try:
        obj = call(f"read {kind} {name}", _method(conn, "read", spec), name, conn.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return to_dict(conn, obj)


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def create(conn: Connection, manifest: Obj, dry_run: bool = False) -> Obj:
    """Create; with `dry_run` the server validates (and authorises) without persisting."""
    spec = KINDS[manifest["kind"]]
    body = spec.model.from_dict(manifest)
    return to_dict(conn, call(f"create {manifest['kind']}", _method(conn, "create", spec),
                              conn.namespace, body, **_dry(dry_run)))


def replace(conn: Connection, manifest: Obj, dry_run: bool = False) -> Obj:
    spec = KINDS[manifest["kind"]]
    body = spec.model.from_dict(manifest)
    name = manifest["metadata"]["name"]
    return to_dict(conn, call(f"update {manifest['kind']} {name}", _method(conn, "replace", spec),
                              name, conn.namespace, body, **_dry(dry_run)))


def patch(conn: Connection, kind: str, name: str, body: Obj) -> Obj:
    spec = KINDS[kind]
    return to_dict(conn, call(f"patch {kind} {name}", _method(conn, "patch", spec),
                              name, conn.namespace, body))


def delete(conn: Connection, kind: str, name: str) -> bool:
    """Delete (Background propagation: the garbage collector removes pods); False if absent."""
    spec = KINDS[kind]
    try:
        call(f"delete {kind} {name}", _method(conn, "delete", spec), name, conn.namespace,
             propagation_policy="Background")
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def list_objects(conn: Connection, kind: str, selector: str) -> list[Obj]:
    spec = KINDS[kind]
    result = call(f"list {kind}", _method(conn, "list", spec), conn.namespace,
                  label_selector=selector)
    return [to_dict(conn, item) for item in result.items or []]
