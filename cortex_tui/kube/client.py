"""Connecting to a cluster: kubeconfig context and namespace chosen per environment.

`KUBECONFIG` is read at call time (the kubernetes package reads it once, at import), so a
process (or a test) that changes it is honoured. A colon-separated list is merged as kubectl does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from cortex_tui.backends.base import TargetUnavailable
from cortex_tui.settings import DEFAULT_NAMESPACE, Environment


def kubeconfig_path() -> str:
    """The kubeconfig file(s) in use: `$KUBECONFIG` when set, else ~/.kube/config."""
    configured = os.environ.get("KUBECONFIG")
    return configured if configured else str(Path("~/.kube/config").expanduser())


def _contexts(path: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    try:
        contexts, current = k8s_config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError) as exc:
        raise TargetUnavailable(f"cannot read kubeconfig {path}: {exc}") from None
    return list(contexts or []), current


def context_entry(environment: Environment) -> dict[str, Any]:
    """The kubeconfig context of an environment (its `context`, else the current one)."""
    path = kubeconfig_path()
    contexts, current = _contexts(path)
    wanted = environment.context
    if not wanted:
        if current is None:
            raise TargetUnavailable(f"kubeconfig {path} has no current context")
        return current
    for entry in contexts:
        if entry.get("name") == wanted:
            return entry
    known = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
    raise TargetUnavailable(
        f'environment "{environment.name}": no context "{wanted}" in kubeconfig {path} '
        f"(contexts: {known})"
    )


def namespace_for(environment: Environment) -> str:
    """The environment's namespace, else its context's, else "cortex"."""
    if environment.namespace:
        return environment.namespace
    entry = context_entry(environment)
    return (entry.get("context") or {}).get("namespace") or DEFAULT_NAMESPACE


def make_api_client(environment: Environment) -> k8s.ApiClient:
    """An ApiClient for the environment's kubeconfig context (never the global default)."""
    entry = context_entry(environment)
    configuration = type.__call__(k8s.Configuration)
    try:
        k8s_config.load_kube_config(
            config_file=kubeconfig_path(),
            context=entry.get("name"),
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError) as exc:
        raise TargetUnavailable(
            f'environment "{environment.name}": cannot load kubeconfig context '
            f'"{entry.get("name")}": {exc}'
        ) from None
    return k8s.ApiClient(configuration=configuration)


@dataclass(frozen=True)
class Connection:
    """Everything a kube module needs: the client, the namespace and the context's name."""

    api_client: k8s.ApiClient
    namespace: str
    context: str

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api_client)

    @property
    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api_client)

    @property
    def autoscaling(self) -> k8s.AutoscalingV2Api:
        return k8s.AutoscalingV2Api(self.api_client)

    @property
    def networking(self) -> k8s.NetworkingV1Api:
        return k8s.NetworkingV1Api(self.api_client)


def connect(environment: Environment) -> Connection:
    entry = context_entry(environment)
    return Connection(
        api_client=make_api_client(environment),
        namespace=namespace_for(environment),
        context=str(entry.get("name")),
    )
