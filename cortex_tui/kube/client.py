"""Connecting to a cluster: kubeconfig context and namespace chosen per environment.

`KUBECONFIG` is read at call time (the kubernetes package reads it once, at import), so a
process (or a test) that changes it is honoured. A colon-separated list is merged as kubectl does.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException
from urllib3 import exceptions as http_errors

from cortex_tui.errors import TargetUnavailable
from cortex_tui.settings import DEFAULT_NAMESPACE, Environment


def kubeconfig_path() -> str:
    """The kubeconfig file(s) in use: `$KUBECONFIG` when set, else ~/.kube/config."""
    configured = os.environ.get("KUBECONFIG")
    return configured if configured else str(Path("~/.kube/config").expanduser())


def _contexts(path: str, environment: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    if not any(Path(p).expanduser().is_file() for p in path.split(os.pathsep) if p):
        raise TargetUnavailable(
            f'environment "{environment}": no kubeconfig at {path} (set KUBECONFIG to yours; '
            "-e names a context of it, a named environment of settings.yaml, or local)"
        )
    try:
        contexts, current = k8s_config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError) as exc:
        raise TargetUnavailable(f"cannot read kubeconfig {path}: {exc}") from None
    return list(contexts or []), current


def context_entry(environment: Environment) -> dict[str, Any]:
    """The kubeconfig context of an environment (its `context`, else the current one)."""
    path = kubeconfig_path()
    contexts, current = _contexts(path, environment.name)
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


# The client waits forever by default: an API server behind a dropped VPN, or one that accepts
# connections and never answers, would freeze the CLI and the TUI. Every call without its own
# timeout gets these; streams (`watch`, `follow`) only the connect one.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
CONNECT_RETRIES = 1  # a refused or timed-out connection sent nothing: one more try is safe
_STREAM_FLAGS = ("watch", "follow")


def _is_stream(url: str) -> bool:
    query = dict(parse_qsl(urlsplit(url).query))
    return any(query.get(flag, "false").lower() not in ("", "0", "false") for flag in
               _STREAM_FLAGS)


class TimedApiClient(k8s.ApiClient):
    """An ApiClient whose calls time out (see READ_TIMEOUT) unless they say otherwise."""

    def call_api(self, method: str, url: str, header_params: Any = None, body: Any = None,
                 post_params: Any = None, _request_timeout: Any = None) -> Any:
        if _request_timeout is None:
            _request_timeout = (CONNECT_TIMEOUT, None if _is_stream(url) else READ_TIMEOUT)
        return super().call_api(method, url, header_params, body, post_params, _request_timeout)


def unreachable(exc: BaseException) -> str:
    """Why a request got no answer, in a few words, with the server's address:
    `cannot reach the cluster at https://10.0.0.1:6443: connection refused`."""
    reason: BaseException = exc
    where = ""
    if isinstance(exc, http_errors.MaxRetryError):
        reason = exc.reason or exc
    pool = getattr(exc, "pool", None) or getattr(reason, "pool", None)
    if pool is not None and getattr(pool, "host", None):
        where = f" at {pool.scheme}://{pool.host}" + (f":{pool.port}" if pool.port else "")
    return f"cannot reach the cluster{where}: {_why(reason)}"


def _why(reason: BaseException) -> str:
    # Subclasses first: NameResolutionError is a NewConnectionError, which is (for urllib3's
    # backward compatibility) a ConnectTimeoutError.
    text = str(reason)
    if isinstance(reason, http_errors.NameResolutionError):
        return "the host name does not resolve"
    if isinstance(reason, http_errors.NewConnectionError):
        errno_text = text.rsplit("] ", 1)[-1] if "] " in text else text
        return errno_text.rstrip("')\"").lower()
    if isinstance(reason, http_errors.ConnectTimeoutError):
        return f"no connection within {CONNECT_TIMEOUT:g} s"
    if isinstance(reason, http_errors.ReadTimeoutError):
        return "connected, but no answer in time"
    if isinstance(reason, http_errors.SSLError):
        return f"TLS failed: {text}"
    if isinstance(reason, http_errors.ProtocolError):
        return "the connection was closed before an answer"
    return text


class _PluginErrors(logging.Filter):
    """The client only logs (on the root logger) when a kubeconfig's `exec` credential plugin
    fails (missing `aws` CLI, expired SSO session...), then sends requests without credentials.
    Catch those lines to report them, instead of a stray log line and a later 401."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and "kube_config" in record.pathname:
            self.messages.append(record.getMessage().strip())
            return False
        return True


def make_api_client(environment: Environment) -> k8s.ApiClient:
    """An ApiClient for the environment's kubeconfig context (never the global default)."""
    entry = context_entry(environment)
    configuration = type.__call__(k8s.Configuration)
    plugin_errors = _PluginErrors()
    logging.getLogger().addFilter(plugin_errors)
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
    finally:
        logging.getLogger().removeFilter(plugin_errors)
    if plugin_errors.messages:
        raise TargetUnavailable(
            f'environment "{environment.name}": the credential plugin (exec) of kubeconfig '
            f'context "{entry.get("name")}" failed: {plugin_errors.messages[0]}'
        )
    # Read errors are not retried (a slow server would multiply READ_TIMEOUT); connects are.
    configuration.retries = urllib3.Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES,
                                          read=0, redirect=5, status=0)
    return TimedApiClient(configuration=configuration)


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

    @property
    def policy(self) -> k8s.PolicyV1Api:
        return k8s.PolicyV1Api(self.api_client)


def connect(environment: Environment) -> Connection:
    entry = context_entry(environment)
    return Connection(
        api_client=make_api_client(environment),
        namespace=namespace_for(environment),
        context=str(entry.get("name")),
    )


def kube_contexts() -> list[str]:
    """Context names of the user's kubeconfig (KUBECONFIG honoured); [] when there is none."""
    # read KUBECONFIG now: the client's default was fixed when it was imported
    path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    try:
        contexts, _active = k8s_config.list_kube_config_contexts(config_file=path)
    except Exception:  # no kubeconfig, or an unreadable one: nothing to offer
        return []
    return [str(c["name"]) for c in contexts or [] if c.get("name")]
