"""Backends: one interface, one implementation per target. Use `get_backend`."""

from __future__ import annotations

from cortex_tui.backends.base import Backend, BackendError
from cortex_tui.settings import Environment, resolve


def get_backend(env: str | Environment | None = None) -> Backend:
    """The backend for an environment name (`local` by default) or a resolved Environment."""
    environment = env if isinstance(env, Environment) else resolve(env)
    if environment.kind == "local":
        from cortex_tui.backends.local import LocalBackend

        return LocalBackend()
    if environment.kind == "kubernetes":
        from cortex_tui.backends.kubernetes import KubernetesBackend

        return KubernetesBackend(environment)
    raise BackendError(f"unknown environment kind {environment.kind!r}")


__all__ = ["Backend", "BackendError", "get_backend"]
