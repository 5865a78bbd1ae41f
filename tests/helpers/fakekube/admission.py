"""Admission of pods as a real API server does it: Pod Security (`restricted`, for namespaces
labelled `pod-security.kubernetes.io/enforce: restricted`) and ResourceQuota (a quota on cpu or
memory requires every container, init containers included, to state it). Both answer 403
Forbidden with the real server's wording; the ReplicaSet controller then creates no pod and
writes a `FailedCreate` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.helpers.fakekube.resources import ApiError, by_kind

if TYPE_CHECKING:
    from tests.helpers.fakekube.store import Store

Obj = dict[str, Any]
NAMESPACE = by_kind("Namespace")
QUOTA = by_kind("ResourceQuota")
ENFORCE = "pod-security.kubernetes.io/enforce"
# Volume types the restricted profile allows.
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}
# What a quota's `hard` names that each container must request (or limit), as the pod evaluator.
_CONSTRAINED = {"cpu": "requests.cpu", "memory": "requests.memory",
                "requests.cpu": "requests.cpu", "requests.memory": "requests.memory",
                "limits.cpu": "limits.cpu", "limits.memory": "limits.memory"}


def _containers(spec: Obj) -> list[Obj]:
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def _names(containers: list[Obj]) -> str:
    quoted = ", ".join(f'"{c.get("name", "")}"' for c in containers)
    return f"container {quoted}" if len(containers) == 1 else f"containers {quoted}"


def _context(container: Obj) -> Obj:
    return container.get("securityContext") or {}


def _unset_anywhere(spec: Obj, key: str, ok: Any) -> list[Obj]:
    """Containers for which neither they nor the pod set `key` to an accepted value."""
    pod_value = (spec.get("securityContext") or {}).get(key)
    return [c for c in _containers(spec)
            if not ok(_context(c).get(key, pod_value))]


def restricted_violations(spec: Obj) -> list[str]:
    """The `restricted:latest` checks, worded as the pod-security admission plugin words them."""
    out: list[str] = []
    containers = _containers(spec)
    if privileged := [c for c in containers if _context(c).get("privileged")]:
        out.append(f"privileged ({_names(privileged)} must not set "
                   "securityContext.privileged=true)")
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if hosts:
        out.append(f"host namespaces ({', '.join(hosts)})")
    if escalating := [c for c in containers if _context(c).get("allowPrivilegeEscalation")
                      is not False]:
        out.append(f"allowPrivilegeEscalation != false ({_names(escalating)} must set "
                   "securityContext.allowPrivilegeEscalation=false)")
    unrestricted = [c for c in containers
                    if "ALL" not in ((_context(c).get("capabilities") or {}).get("drop") or [])
                    or set((_context(c).get("capabilities") or {}).get("add") or [])
                    - {"NET_BIND_SERVICE"}]
    if unrestricted:
        out.append(f"unrestricted capabilities ({_names(unrestricted)} must set "
                   'securityContext.capabilities.drop=["ALL"])')
    volumes = [v for v in spec.get("volumes") or [] if not set(v) - {"name"} <= ALLOWED_VOLUMES]
    if volumes:
        kinds = ", ".join(f'"{v["name"]}"' for v in volumes)
        out.append(f"restricted volume types (volumes {kinds})")
    if non_root := _unset_anywhere(spec, "runAsNonRoot", lambda v: v is True):
        out.append(f"runAsNonRoot != true (pod or {_names(non_root)} must set "
                   "securityContext.runAsNonRoot=true)")
    if root := _unset_anywhere(spec, "runAsUser", lambda v: v != 0):
        out.append(f"runAsUser=0 (pod or {_names(root)} must not set runAsUser=0)")
    seccomp = _unset_anywhere(spec, "seccompProfile", lambda v: (v or {}).get("type") in (
        "RuntimeDefault", "Localhost"))
    if seccomp:
        out.append(f"seccompProfile (pod or {_names(seccomp)} must set "
                   'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    return out


def _stated(container: Obj) -> set[str]:
    resources = container.get("resources") or {}
    requests = dict(resources.get("limits") or {})  # the server defaults requests to limits
    requests.update(resources.get("requests") or {})
    stated = {f"requests.{name}" for name in requests}
    stated |= {f"limits.{name}" for name in resources.get("limits") or {}}
    return stated


def quota_violation(quota: Obj, spec: Obj) -> str | None:
    required = {_CONSTRAINED[k] for k in (quota.get("spec") or {}).get("hard") or {}
                if k in _CONSTRAINED}
    missing: dict[str, list[str]] = {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for resource in sorted(required - _stated(container)):
            missing.setdefault(resource, []).append(container.get("name", ""))
    if not missing:
        return None
    parts = [f"{resource} for: {','.join(sorted(names))}"
             for resource, names in sorted(missing.items())]
    return f"failed quota: {quota['metadata']['name']}: must specify {'; '.join(parts)}"


def admit_pod(store: Store, namespace: str, pod: Obj) -> None:
    """403 Forbidden when the namespace's policy or quotas refuse the pod."""
    name = pod["metadata"].get("name", "")
    spec = pod.get("spec") or {}
    ns = store.find(NAMESPACE, "", namespace) or {}
    level = ((ns.get("metadata") or {}).get("labels") or {}).get(ENFORCE)
    if level == "restricted" and (violations := restricted_violations(spec)):
        raise ApiError(403, "Forbidden", f'pods "{name}" is forbidden: violates PodSecurity '
                       f'"restricted:latest": {", ".join(violations)}')
    for quota in store.list(QUOTA, namespace)[0]:
        if problem := quota_violation(quota, spec):
            raise ApiError(403, "Forbidden", f'pods "{name}" is forbidden: {problem}')
