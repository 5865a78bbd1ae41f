"""Apply rendered manifests: create what is missing, replace what changed, leave the rest alone.

Idempotent by construction: an object is written only when its config-hash annotation differs from
the live one or the live object no longer contains the desired fields (someone edited it).
A deploy is planned from reads, every write is tried as a server-side dry run, then made:
updates are PUTs carrying the live resourceVersion, retried on 409 Conflict.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from cortex_tui.errors import BackendError
from cortex_tui.kube import labels as L
from cortex_tui.kube import objects
from cortex_tui.kube.client import Connection
from cortex_tui.kube.objects import DELETE_ORDER, KINDS, Obj, call, status_reason
from cortex_tui.kube.render import ApiManifests
from cortex_tui.types import DeployChange

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


def _keep_foreign(body: Obj, live: Obj, field: str) -> None:
    """Labels / annotations other tools put on the object survive our update (ours do not:
    a `cortex-tui/` key we no longer render goes)."""
    theirs = {k: v for k, v in (live["metadata"].get(field) or {}).items()
              if not k.startswith("cortex-tui/")}
    if theirs:
        body["metadata"][field] = {**theirs, **(body["metadata"].get(field) or {})}


def _update_body(desired: Obj, live: Obj) -> Obj:
    body = _stamped_now(desired)
    body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    for field in ("labels", "annotations"):
        _keep_foreign(body, live, field)
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


@dataclass
class Step:
    """One object's planned write: "created", "updated" or "unchanged"."""

    desired: Obj
    live: Obj | None
    action: str


def plan_object(conn: Connection, desired: Obj) -> Step:
    live = objects.read(conn, desired["kind"], desired["metadata"]["name"])
    if live is None:
        return Step(desired, None, "created")
    if (live["metadata"].get("labels") or {}).get(L.MANAGED_BY) != L.MANAGER:
        kind, name = desired["kind"], desired["metadata"]["name"]
        raise BackendError(
            f"{kind} {name} already exists in namespace {conn.namespace} and was not made by "
            "cortex-tui: it is left alone. Rename the API, deploy to another namespace, or "
            "remove that object"
        )
    return Step(desired, live, "unchanged" if unchanged(desired, live) else "updated")


def _write(conn: Connection, step: Step, dry_run: bool) -> None:
    if step.action == "created":
        objects.create(conn, _stamped_now(step.desired), dry_run)
    elif step.action == "updated":
        assert step.live is not None
        objects.replace(conn, _update_body(step.desired, step.live), dry_run)


def _write_retrying(conn: Connection, step: Step, dry_run: bool) -> tuple[Step, bool]:
    """Write (or dry-run) the step, re-reading and re-planning on 409 Conflict (a concurrent
    writer, or a create race). Returns the step as last planned and whether it went through."""
    for _ in range(MAX_ATTEMPTS):
        try:
            _write(conn, step, dry_run=dry_run)
            return step, True
        except ApiException as exc:
            if exc.status != 409:
                raise _refused(step.desired, exc) from None
        time.sleep(0.05)
        step = plan_object(conn, step.desired)
    return step, False


def try_step(conn: Connection, step: Step) -> Step:
    """Ask the server to validate the write without making it (`dryRun=All`): refusals
    (invalid, forbidden, quota) surface before anything changes. Returns the step, re-planned
    when a concurrent writer moved the object meanwhile."""
    step, _ = _write_retrying(conn, step, dry_run=True)
    return step  # still racing: the real write retries (and reports) the conflicts


def commit_step(conn: Connection, step: Step) -> Step:
    """Make the write, re-reading and retrying on 409 Conflict; the step as finally done."""
    step, written = _write_retrying(conn, step, dry_run=False)
    if written:
        return step
    kind, name = step.desired["kind"], step.desired["metadata"]["name"]
    raise BackendError(
        f"{kind} {name}: still conflicting with another writer after {MAX_ATTEMPTS} attempts"
    )


def ensure_namespace(conn: Connection, manifest: Obj) -> None:
    core = conn.core
    try:
        call("read namespace", core.read_namespace, conn.namespace)
        return
    except objects.Forbidden:
        return  # not allowed to read namespaces: assume it exists, the writes will tell
    except ApiException as exc:
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


@dataclass
class ApiPlan:
    """Everything a deploy will do to one API, decided from reads only."""

    api: str
    steps: list[Step]
    stale: list[tuple[str, str]]  # (kind, name) of objects the render no longer produces
    force: bool = False


def plan_api(conn: Connection, manifests: ApiManifests, force: bool = False) -> ApiPlan:
    steps = []
    for manifest in manifests.objects:
        desired = manifest
        if force and manifest["kind"] == "Deployment":
            desired = copy.deepcopy(manifest)
            template_meta = desired["spec"]["template"]["metadata"]
            template_meta["annotations"][RESTARTED_AT] = f"{time.time():.3f}"
        steps.append(plan_object(conn, desired))
    return ApiPlan(manifests.api, steps, stale_objects(conn, manifests), force)


def try_plan(conn: Connection, plan: ApiPlan) -> None:
    plan.steps = [try_step(conn, step) for step in plan.steps]


def commit_plan(conn: Connection, plan: ApiPlan) -> DeployChange:
    actions: dict[str, str] = {}
    reasons: list[str] = []
    for planned in plan.steps:
        step = commit_step(conn, planned)
        kind = step.desired["kind"]
        actions[kind] = step.action
        if step.action == "updated" and kind == "Deployment":
            reasons += _config_diff(step.live, step.desired)
        if step.action == "updated" and kind == "HorizontalPodAutoscaler":
            reasons += _hpa_diff(step.live, step.desired)
    for kind, name in plan.stale:
        objects.delete(conn, kind, name)
    if actions.get("Deployment") == "created":
        return DeployChange(plan.api, "created")
    changed = [kind for kind, action in actions.items() if action != "unchanged"]
    changed += [kind for kind, _ in plan.stale]
    if not changed:
        return DeployChange(plan.api, "unchanged")
    if reasons:
        message = ", ".join(f"{reason} changed" for reason in dict.fromkeys(reasons))
    elif plan.force and changed == ["Deployment"]:
        message = "restarted"
    else:
        message = f"{', '.join(changed)} changed"
    return DeployChange(plan.api, "updated", message)


def api_selector(api: str) -> str:
    return f"{L.INSTANCE}={api},{L.MANAGED_SELECTOR}"


def stale_objects(conn: Connection, manifests: ApiManifests) -> list[tuple[str, str]]:
    """This API's objects that the render no longer produces (e.g. a dropped Ingress)."""
    wanted = {(o["kind"], o["metadata"]["name"]) for o in manifests.objects}
    return [
        (kind, obj["metadata"]["name"])
        for kind in KINDS
        for obj in objects.list_objects(conn, kind, api_selector(manifests.api))
        if (kind, obj["metadata"]["name"]) not in wanted
    ]


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
