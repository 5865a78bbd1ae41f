"""User settings: the state directory and named environments (targets).

`$CORTEX_TUI_HOME` (default `~/.cortex-tui`) holds the local operator's state and
`settings.yaml`:

    environments:
      prod:                       # used as `-e prod`
        context: my-eks           # kubeconfig context (default: the environment's name)
        namespace: cortex         # default: the context's namespace, else "cortex"
        image: registry/predictor:tag
        project_store: s3://bucket/prefix   # ship projects through S3 instead of a ConfigMap
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LOCAL = "local"
DEFAULT_NAMESPACE = "cortex"
SETTINGS_FILENAME = "settings.yaml"


class SettingsError(ValueError):
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


def home() -> Path:
    """The state directory (created on demand by whoever writes into it)."""
    configured = os.environ.get("CORTEX_TUI_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".cortex-tui"


def settings_file() -> Path:
    return home() / SETTINGS_FILENAME


def _load_raw(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a map with an `environments` key")
    return data


_ENV_KEYS = {"context", "namespace", "image", "project_store", "aws"}
_AWS_KEYS = {"region", "node_groups", "node_group_tag", "cloudwatch_namespace", "endpoint_url"}


def _aws(path: Path, name: str, raw: Any) -> AwsSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: environments.{name}.aws: must be a map")
    unknown = set(raw) - _AWS_KEYS
    if unknown:
        raise SettingsError(f"{path}: environments.{name}.aws: unknown key {sorted(unknown)[0]!r}")
    for key in _AWS_KEYS - {"node_groups"}:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise SettingsError(f"{path}: environments.{name}.aws.{key}: must be a string")
    groups = raw.get("node_groups") or ()
    if isinstance(groups, str):
        groups = (groups,)
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) for g in groups):
        raise SettingsError(
            f"{path}: environments.{name}.aws.node_groups: must be a list of Auto Scaling "
            "group names"
        )
    return AwsSettings(
        region=raw.get("region"),
        node_groups=tuple(str(g) for g in groups),
        node_group_tag=raw.get("node_group_tag"),
        cloudwatch_namespace=raw.get("cloudwatch_namespace"),
        endpoint_url=raw.get("endpoint_url"),
    )


def environments(path: Path | None = None) -> dict[str, Environment]:
    """Named environments of the settings file (not including `local`)."""
    path = path or settings_file()
    envs = _load_raw(path).get("environments") or {}
    if not isinstance(envs, dict):
        raise SettingsError(f"{path}: environments: must be a map of name to settings")
    result: dict[str, Environment] = {}
    for name, raw in envs.items():
        raw = raw or {}
        if not isinstance(raw, dict):
            raise SettingsError(f"{path}: environments.{name}: must be a map")
        unknown = set(raw) - _ENV_KEYS
        if unknown:
            raise SettingsError(f"{path}: environments.{name}: unknown key {sorted(unknown)[0]!r}")
        result[str(name)] = Environment(
            name=str(name),
            kind="kubernetes",
            context=raw.get("context") or str(name),
            namespace=raw.get("namespace"),
            image=raw.get("image"),
            project_store=raw.get("project_store"),
            aws=_aws(path, str(name), raw.get("aws")),
        )
    return result


def resolve(name: str | None) -> Environment:
    """The environment for `-e NAME`: local, a named environment, or a kubeconfig context."""
    if not name or name == LOCAL:
        return Environment(name=LOCAL, kind=LOCAL)
    named = environments().get(name)
    if named is not None:
        return named
    return Environment(name=name, kind="kubernetes", context=name)
