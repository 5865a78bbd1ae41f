"""Apply rendered manifests: create what is missing, replace what changed, leave the rest alone.

Idempotent by construction: an object is written only when its config-hash annotation differs from
the live one or the live object no longer contains the desired fields (someone edited it).
Updates are PUTs carrying the live resourceVersion, retried on 409 Conflict.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from cortex_tui.backends.base import BackendError, DeployChange
from cortex_tui.kube import labels as L
from cortex_tui.kube import objects
from cortex_tui.kube.client import Connection
from cortex_tui.kube.objects import DELETE_ORDER, KINDS, Obj, call, status_reason
from cortex_tui.kube.render import ApiManifests

MAX_ATTEMPTS = 6
RESTARTED_AT = "cortex-tui/restarted-at"
_HPA_KEYS = {"minReplicas": "compute.min_replicas", "maxReplicas": "compute.max_replicas"}


def _same_scalar(desired: Any, live: Any) -> bool:
    if desired == live:
        return True
    if isinstance(desired, (str, int, float)) and isinstance(live, (str, int, float)):
        try:  # the server stores quantities canonically: "1073741824" may come back as "1Gi"
            return parse_quantity(desired) == parse_quantity(live)
        except (ValueError, TypeError):
            return False
    return False


def is_subset(desired: Any, live: Any) -> bool:
    """Every field of `desired` is in `live` with the same value (the server adds defaults)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and is_subset(value, live[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(is_subset(d, v) for d, v in zip(desired, live, strict=True))
        )
    return _same_scalar(desired, live)


def _comparable(manifest: Obj) -> Obj:
    wanted = copy.deepcopy(manifest)
    if wanted["kind"] == "Deployment":
        wanted["spec"].pop("replicas", None)  # the HPA owns it once created
    return wanted


def unchanged(desired: Obj, live: Obj) -> bool:
    live_hash = (live["metadata"].get("annotations") or {}).get(L.CONFIG_HASH)
    return live_hash == desired["metadata"]["annotations"][L.CONFIG_HASH] and is_subset(
        _comparable(desired), live
    )


def _stamped_now(manifest: Obj) -> Obj:
    body = copy.deepcopy(manifest)
    body["metadata"].setdefault("annotations", {})[L.UPDATED_AT] = f"{time.time():.3f}"
    return body


def _update_body(desired: Obj, live: Obj) -> Obj:
    body = _stamped_now(desired)
    body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    if desired["kind"] == "Deployment":
        body["spec"]["replicas"] = live["spec"].get("replicas", body["spec"].get("replicas"))
    if desired["kind"] == "Service":
        for kept in ("clusterIP", "clusterIPs"):
            if kept in live.get("spec", {}):
                body["spec"][kept] = live["spec"][kept]
    return body


def _refused(manifest: Obj, exc: ApiException) -> BackendError:
    return BackendError(
        f"the cluster refused {manifest['kind']} {manifest['metadata']['name']}: "
        f"{status_reason(exc)}"
    )


def apply_object(conn: Connection, desired: Obj, force: bool = False) -> tuple[str, Obj | None]:
    """("created" | "updated" | "unchanged", the live object before the change)."""
    kind, name = desired["kind"], desired["metadata"]["name"]
    for _ in range(MAX_ATTEMPTS):
        live = objects.read(conn, kind, name)
        try:
            if live is None:
                objects.create(conn, _stamped_now(desired))
                return "created", None
            if not force and unchanged(desired, live):
                return "unchanged", live
            objects.replace(conn, _update_body(desired, live))
            return "updated", live
        except ApiException as exc:
            if exc.status == 409:  # a concurrent writer (or a create race): read again
                time.sleep(0.05)
                continue
            raise _refused(desired, exc) from None
    raise BackendError(
        f"{kind} {name}: still conflicting with another writer after {MAX_ATTEMPTS} attempts"
    )


def ensure_namespace(conn: Connection, manifest: Obj) -> None:
    core = conn.core
    try:
        call("read namespace", core.read_namespace, conn.namespace)
        return
    except ApiException as exc:
        if exc.status == 403:
            return  # not allowed to read namespaces: assume it exists, the writes will tell
        if exc.status != 404:
            raise
    try:
        call("create namespace", core.create_namespace, k8s.V1Namespace.from_dict(manifest))
    except ApiException as exc:
        if exc.status != 409:
            raise _refused(manifest, exc) from None


def _config_diff(before: Obj | None, after: Obj) -> list[str]:
    """Dotted keys of the API's config that differ between two Deployments' annotations."""
    def config(obj: Obj | None) -> dict[str, Any]:
        text = ((obj or {}).get("metadata", {}).get("annotations") or {}).get(L.API_SPEC, "{}")
        return json.loads(text)

    def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                out.update(flatten(item, f"{prefix}{key}."))
            return out or {prefix.rstrip("."): {}}
        return {prefix.rstrip("."): value}

    old, new = flatten(config(before)), flatten(config(after))
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    project_before = ((before or {}).get("metadata", {}).get("annotations") or {}).get(
        L.PROJECT_HASH)
    if project_before and project_before != after["metadata"]["annotations"].get(L.PROJECT_HASH):
        changed.append("project files")
    return changed


def _hpa_diff(before: Obj | None, after: Obj) -> list[str]:
    if before is None:
        return []
    changed = [label for key, label in _HPA_KEYS.items()
               if before["spec"].get(key) != after["spec"].get(key)]
    if before["spec"].get("metrics") != after["spec"].get("metrics"):
        changed.append("compute.target_cpu_utilization")
    return changed


def apply_api(conn: Connection, manifests: ApiManifests, force: bool = False) -> DeployChange:
    actions: dict[str, str] = {}
    reasons: list[str] = []
    for manifest in manifests.objects:
        desired = manifest
        if force and manifest["kind"] == "Deployment":
            desired = copy.deepcopy(manifest)
            template_meta = desired["spec"]["template"]["metadata"]
            template_meta["annotations"][RESTARTED_AT] = f"{time.time():.3f}"
        action, before = apply_object(conn, desired)
        actions[manifest["kind"]] = action
        if action == "updated" and manifest["kind"] == "Deployment":
            reasons += _config_diff(before, manifest)
        if action == "updated" and manifest["kind"] == "HorizontalPodAutoscaler":
            reasons += _hpa_diff(before, manifest)
    stale = prune_api_objects(conn, manifests)
    if actions.get("Deployment") == "created":
        return DeployChange(manifests.api, "created")
    changed = [kind for kind, action in actions.items() if action != "unchanged"] + stale
    if not changed:
        return DeployChange(manifests.api, "unchanged")
    if reasons:
        message = ", ".join(f"{reason} changed" for reason in dict.fromkeys(reasons))
    elif force and changed == ["Deployment"]:
        message = "restarted"
    else:
        message = f"{', '.join(changed)} changed"
    return DeployChange(manifests.api, "updated", message)


def api_selector(api: str) -> str:
    return f"{L.INSTANCE}={api},{L.MANAGED_SELECTOR}"


def prune_api_objects(conn: Connection, manifests: ApiManifests) -> list[str]:
    """Delete this API's objects that the render no longer produces (e.g. an Ingress)."""
    wanted = {(o["kind"], o["metadata"]["name"]) for o in manifests.objects}
    removed = []
    for kind in KINDS:
        for obj in objects.list_objects(conn, kind, api_selector(manifests.api)):
            if (kind, obj["metadata"]["name"]) not in wanted:
                objects.delete(conn, kind, obj["metadata"]["name"])
                removed.append(kind)
    return removed


def delete_api(conn: Connection, api: str) -> bool:
    """Delete every object of an API; False when it had none."""
    found = False
    for kind in DELETE_ORDER:
        for obj in objects.list_objects(conn, kind, api_selector(api)):
            found = objects.delete(conn, kind, obj["metadata"]["name"]) or found
    return found


def managed_apis(conn: Connection, part_of: str | None = None) -> set[str]:
    """APIs (by name) with a Deployment managed by cortex-tui, optionally of one project."""
    selector = L.MANAGED_SELECTOR + (f",{L.PART_OF}={part_of}" if part_of else "")
    return {
        obj["metadata"]["labels"][L.NAME]
        for obj in objects.list_objects(conn, "Deployment", selector)
        if L.NAME in (obj["metadata"].get("labels") or {})
    }
