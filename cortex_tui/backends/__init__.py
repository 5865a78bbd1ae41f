"""Backends: the registry (`get_backend`) that picks the target's `Backend` (the interface, in
`cortex_tui.interface`, re-exported here for the CLI and the TUI).

Each implementation sits beside its driver code: `cortex_tui.local.backend` and
`cortex_tui.kube.backend`; they are imported only here, on demand.
"""

from __future__ import annotations

from cortex_tui.errors import BackendError
from cortex_tui.interface import Backend
from cortex_tui.settings import Environment, resolve


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


__all__ = ["Backend", "BackendError", "get_backend"]
