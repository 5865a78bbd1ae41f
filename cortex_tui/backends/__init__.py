"""Backends: the registry (`get_backend`) that picks the target's `Backend` (the interface, in
`cortex_tui.interface`, re-exported here for the CLI and the TUI).

Each implementation sits beside its driver code: `cortex_tui.local.backend` and
`cortex_tui.kube.backend`; they are imported only here, on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cortex_tui.errors import BackendError
from cortex_tui.interface import Backend
from cortex_tui.settings import LOCAL, Environment, SettingsError, environments, resolve

if TYPE_CHECKING:
    from pathlib import Path

    from cortex_tui.config.model import Project
    from cortex_tui.kube.offline import Rendered


def get_backend(env: str | Environment | None = None) -> Backend:
    """The backend for an environment name (`local` by default) or a resolved Environment."""
    environment = env if isinstance(env, Environment) else resolve(env)
    if environment.kind == "local":
        from cortex_tui.local.backend import LocalBackend

        return LocalBackend()
    if environment.kind == "kubernetes":
        from cortex_tui.kube.backend import KubernetesBackend

        return KubernetesBackend(environment)
    raise BackendError(f"unknown environment kind {environment.kind!r}")


def target_names() -> list[str]:
    """Every target one may switch to: local, the named environments of settings.yaml, then
    the kubeconfig's contexts."""
    from cortex_tui.kube.client import kube_contexts

    try:
        named = sorted(environments())
    except SettingsError:
        named = []
    contexts = [c for c in kube_contexts() if c not in named and c != LOCAL]
    return [LOCAL, *named, *sorted(contexts)]


def render_manifests(project: Project, env: str | None, **options: Any) -> Rendered:
    """`cortex-tui render`: the Kubernetes manifests `deploy` would apply to `env`, offline (no
    cluster needed, so any environment works: its namespace and image when it names them).
    `options` are `kube.offline.render_for_environment`'s (ingress, pod_monitor, ...)."""
    from cortex_tui.kube.offline import render_for_environment

    return render_for_environment(project, env, **options)


def write_dockerfile(project: Project, env: str | None) -> list[Path]:
    """`cortex-tui render --dockerfile`: a project image's Dockerfile and .dockerignore in the
    project folder, FROM `env`'s predictor image; the paths written."""
    from cortex_tui.kube.offline import write_dockerfile as write

    return write(project, env)


__all__ = [
    "Backend",
    "BackendError",
    "get_backend",
    "render_manifests",
    "target_names",
    "write_dockerfile",
]
