"""User settings: the state directory and named environments (targets).

`$CORTEX_TUI_HOME` (default `~/.cortex-tui`) holds the local operator's state and
`settings.yaml`:

    environments:
      prod:                       # used as `-e prod`
        context: my-eks           # kubeconfig context (default: the environment's name)
        namespace: cortex         # default: the context's namespace, else "cortex"
        image: registry/predictor:tag
        project_store: s3://bucket/prefix   # ship projects through S3 instead of a ConfigMap
        service_account: cortex-predictor   # the pods' identity (IRSA), else no token mounted
        network_policy: true      # admit only the ingress controller and Prometheus
        aws:
          region: us-west-2
          node_groups: [eks-workers]        # Auto Scaling group names ...
          node_group_tag: k8s.io/cluster-autoscaler/my-cluster  # ... or a tag that finds them
          cloudwatch_namespace: cortex      # set to turn CloudWatch monitoring on
          endpoint_url: null                # only for tests / AWS-compatible endpoints

Any kubeconfig context also works by its name without an entry here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cortex_tui.errors import UserError

LOCAL = "local"
DEFAULT_NAMESPACE = "cortex"
SETTINGS_FILENAME = "settings.yaml"


class SettingsError(UserError):
    """The settings file is unreadable or wrong; the message names the file and key."""


@dataclass(frozen=True)
class AwsSettings:
    region: str | None = None
    node_groups: tuple[str, ...] = ()
    node_group_tag: str | None = None
    cloudwatch_namespace: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Environment:
    name: str
    kind: str  # "local" or "kubernetes"
    context: str | None = None
    namespace: str | None = None  # None: the context's namespace, else DEFAULT_NAMESPACE
    image: str | None = None
    project_store: str | None = None
    aws: AwsSettings | None = None
    service_account: str | None = None  # None: the namespace's default, no token mounted
    network_policy: bool = False


def home() -> Path:
    """The state directory (created on demand by whoever writes into it)."""
    configured = os.environ.get("CORTEX_TUI_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".cortex-tui"


def settings_file() -> Path:
    return home() / SETTINGS_FILENAME


class _Reader:
    """The settings file's data with the line and column of every key, for error messages
    like `settings.yaml:4:16: environments.prod.namespace: must be ...`."""

    def __init__(self, path: Path) -> None:
        from cortex_tui.config.yamlpos import load_yaml

        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read settings: {exc}") from None
        doc = load_yaml(text)
        if doc.problems:
            first = doc.problems[0]
            raise SettingsError(f"{path}:{first.pos.line}:{first.pos.column}: {first.message}")
        self.data = doc.data
        self.marks = doc.marks

    def error(self, keys: tuple[Any, ...], message: str, at_key: bool = False) -> SettingsError:
        marks = self.marks.get(keys)
        pos = (marks.key if at_key and marks and marks.key else marks.value) if marks else None
        where = f"{self.path}:{pos.line}:{pos.column}" if pos else str(self.path)
        dotted = ".".join(str(k) for k in keys)
        return SettingsError(f"{where}: {dotted}: {message}" if dotted else f"{where}: {message}")

    def string(self, keys: tuple[Any, ...], value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(keys, f"must be a non-empty string (got {value!r})")
        return value


_ENV_KEYS = {"context", "namespace", "image", "project_store", "aws", "service_account",
             "network_policy"}
_AWS_KEYS = {"region", "node_groups", "node_group_tag", "cloudwatch_namespace", "endpoint_url"}


def _check_keys(reader: _Reader, keys: tuple[Any, ...], raw: dict[Any, Any],
                known: set[str]) -> None:
    for key in raw:
        if key not in known:
            raise reader.error((*keys, key), f"unknown key (known: {', '.join(sorted(known))})",
                               at_key=True)


def _aws(reader: _Reader, keys: tuple[Any, ...], raw: Any) -> AwsSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise reader.error(keys, "must be a map (region, node_groups, node_group_tag, "
                           "cloudwatch_namespace)")
    _check_keys(reader, keys, raw, _AWS_KEYS)
    strings = {key: reader.string((*keys, key), raw.get(key)) for key in _AWS_KEYS - {
        "node_groups"}}
    groups = raw.get("node_groups") or ()
    if isinstance(groups, str):
        groups = (groups,)
    if not isinstance(groups, (list, tuple)) or not all(
        isinstance(g, str) and g.strip() for g in groups
    ):
        raise reader.error((*keys, "node_groups"), "must be a list of Auto Scaling group names")
    return AwsSettings(
        region=strings["region"],
        node_groups=tuple(groups),
        node_group_tag=strings["node_group_tag"],
        cloudwatch_namespace=strings["cloudwatch_namespace"],
        endpoint_url=strings["endpoint_url"],
    )


def _environment(reader: _Reader, name: Any, raw: Any) -> Environment:
    keys: tuple[Any, ...] = ("environments", name)
    if not isinstance(name, str) or not name.strip():
        raise reader.error(keys, "an environment's name must be a non-empty string", at_key=True)
    if name == LOCAL:
        raise reader.error(keys, f'"{LOCAL}" is the built-in local target; give this '
                           "environment another name", at_key=True)
    raw = raw or {}
    if not isinstance(raw, dict):
        raise reader.error(keys, f"must be a map ({', '.join(sorted(_ENV_KEYS))})")
    _check_keys(reader, keys, raw, _ENV_KEYS)
    from cortex_tui.config.schema import DNS_1123  # a namespace name is a DNS-1123 label

    DNS_1123_SUBDOMAIN = re.compile(rf"{DNS_1123.pattern}(\.{DNS_1123.pattern})*")

    namespace = reader.string((*keys, "namespace"), raw.get("namespace"))
    if namespace is not None and (len(namespace) > 63 or not DNS_1123.fullmatch(namespace)):
        raise reader.error((*keys, "namespace"), "must be a Kubernetes namespace name: "
                           "lower-case letters, digits and '-', at most 63 characters "
                           f"(got {namespace!r})")
    store = reader.string((*keys, "project_store"), raw.get("project_store"))
    if store is not None and (not store.startswith("s3://") or not store[5:].split("/")[0]):
        raise reader.error((*keys, "project_store"),
                           f"must look like s3://bucket/prefix (got {store!r})")
    account = reader.string((*keys, "service_account"), raw.get("service_account"))
    if account is not None and (len(account) > 253 or not DNS_1123_SUBDOMAIN.fullmatch(account)):
        raise reader.error((*keys, "service_account"), "must be a Kubernetes ServiceAccount "
                           "name: lower-case letters, digits, '-' and '.' "
                           f"(got {account!r})")
    network_policy = raw.get("network_policy", False)
    if not isinstance(network_policy, bool):
        raise reader.error((*keys, "network_policy"),
                           f"must be true or false (got {network_policy!r})")
    return Environment(
        name=name,
        kind="kubernetes",
        context=reader.string((*keys, "context"), raw.get("context")) or name,
        namespace=namespace,
        image=reader.string((*keys, "image"), raw.get("image")),
        project_store=store,
        aws=_aws(reader, (*keys, "aws"), raw.get("aws")),
        service_account=account,
        network_policy=network_policy,
    )


def environments(path: Path | None = None) -> dict[str, Environment]:
    """Named environments of the settings file (not including `local`)."""
    path = path or settings_file()
    if not path.exists():
        return {}
    reader = _Reader(path)
    data = reader.data if reader.data is not None else {}
    if not isinstance(data, dict):
        raise reader.error((), "must be a map with an `environments` key")
    _check_keys(reader, (), data, {"environments"})
    envs = data.get("environments") or {}
    if not isinstance(envs, dict):
        raise reader.error(("environments",), "must be a map of name to settings")
    return {name: _environment(reader, name, raw) for name, raw in envs.items()}


def resolve(name: str | None) -> Environment:
    """The environment for `-e NAME`: local, a named environment, or a kubeconfig context."""
    if not name or name == LOCAL:
        return Environment(name=LOCAL, kind=LOCAL)
    named = environments().get(name)
    if named is not None:
        return named
    return Environment(name=name, kind="kubernetes", context=name)
