"""Fill k8s_templates/ from a validated project: the manifests of every API.

The templates are plain YAML. After parsing, a scalar that is exactly `${name}` becomes the value
(a map or list included; `None` removes the key or list item) and `${name}` inside a longer string
becomes text. Values are computed here from the typed config, never from raw YAML.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from cortex_tui.aws.pod_env import pod_env
from cortex_tui.config.model import ApiSpec, Compute, Project, format_cpu
from cortex_tui.kube import labels as L
from cortex_tui.kube.project import ProjectBundle, check_configmap_size
from cortex_tui.settings import AwsSettings

_WHOLE = re.compile(r"^\$\{(\w+)\}$")
_INNER = re.compile(r"\$\{(\w+)\}")
_OMIT = object()


@dataclass(frozen=True)
class RenderContext:
    """Where and how the project is deployed (from the environment)."""

    namespace: str
    image: str = L.DEFAULT_IMAGE
    bundle_uri: str | None = None  # s3://... when the project ships through S3
    aws: AwsSettings | None = None
    ingress: bool = False
    ingress_class: str | None = None
    pod_monitor: bool = False  # a Prometheus Operator PodMonitor per API (render only)


@dataclass(frozen=True)
class ApiManifests:
    """One API's objects, in the order they are applied."""

    api: str
    objects: tuple[dict[str, Any], ...]

    def by_kind(self, kind: str) -> dict[str, Any] | None:
        return next((o for o in self.objects if o["kind"] == kind), None)


@cache
def _template_text(name: str) -> str:
    return resources.files("k8s_templates").joinpath(name).read_text(encoding="utf-8")


def template(name: str) -> Any:
    return yaml.safe_load(_template_text(name))


def fill(node: Any, values: dict[str, Any]) -> Any:
    """Substitute `${name}` placeholders in a parsed template (see the module docstring)."""
    if isinstance(node, dict):
        out = {}
        for key, item in node.items():
            filled = fill(item, values)
            if filled is not _OMIT:
                out[key] = filled
        return out
    if isinstance(node, list):
        return [f for f in (fill(item, values) for item in node) if f is not _OMIT]
    if isinstance(node, str):
        whole = _WHOLE.match(node)
        if whole:
            value = values[whole.group(1)]
            return _OMIT if value is None else copy.deepcopy(value)
        return _INNER.sub(lambda m: str(values[m.group(1)]), node)
    return node


def canonical_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stamp(manifest: dict[str, Any]) -> dict[str, Any]:
    """Add the config-hash annotation: the hash of everything else in the desired object
    (but a Deployment's replicas: init_replicas only counts at creation, the HPA owns it)."""
    annotations = manifest["metadata"].setdefault("annotations", {})
    annotations.pop(L.CONFIG_HASH, None)
    hashed = copy.deepcopy(manifest)
    if manifest["kind"] == "Deployment":
        hashed["spec"].pop("replicas", None)
    annotations[L.CONFIG_HASH] = canonical_hash(hashed)
    return manifest


def resources_for(spec: ApiSpec) -> dict[str, Any]:
    c = spec.compute
    requests: dict[str, Any] = {"cpu": format_cpu(c.cpu)}
    limits: dict[str, Any] = {}
    if c.mem is not None:
        requests["memory"] = str(c.mem)
        limits["memory"] = str(c.mem)  # a limit makes running out of memory visible (OOMKilled)
    if c.gpu > 0:
        requests[L.GPU_RESOURCE] = str(c.gpu)
        limits[L.GPU_RESOURCE] = str(c.gpu)
    return {"requests": requests, "limits": limits} if limits else {"requests": requests}


def _init_containers(ctx: RenderContext, values: dict[str, Any]) -> list[dict[str, Any]]:
    containers = []
    if ctx.bundle_uri:
        aws = ctx.aws
        env = [{"name": "AWS_REGION", "value": aws.region}] if aws and aws.region else None
        args = ["--endpoint-url", aws.endpoint_url] if aws and aws.endpoint_url else None
        containers.append(
            fill(template("init-fetch-s3.yaml"), {**values, "aws_env": env, "aws_cli_args": args})
        )
    containers.append(fill(template("init-unpack.yaml"), values))
    return containers


def api_config_yaml(project: Project, spec: ApiSpec) -> str:
    """cortex.yaml holding only this API (defaults filled), as its replicas read it. The
    autoscaling bounds are left out: they live in the HPA, and changing them must not touch the
    replicas' config."""
    def prune(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prune(v) for k, v in value.items() if v is not None}
        return value

    entries = [
        {"kind": "deployment", "name": project.deployment_name},
        {"kind": "api", **prune(pod_config(spec))},
    ]
    header = "# Generated by cortex-tui for this API's replicas (autoscaling lives in the HPA).\n"
    return header + yaml.safe_dump(entries, sort_keys=False)


# Autoscaling settings live in the HPA: changing them must not roll the pods.
SCALING_KEYS = ("min_replicas", "max_replicas", "init_replicas", "target_cpu_utilization")


def pod_config(spec: ApiSpec) -> dict[str, Any]:
    """The API's config as the replicas see it (everything but the autoscaling bounds)."""
    config = spec.to_dict()
    for key in SCALING_KEYS:
        config["compute"].pop(key)
    return config


def api_values(
    project: Project, spec: ApiSpec, ctx: RenderContext, bundle: ProjectBundle
) -> dict[str, Any]:
    api_config = pod_config(spec)
    pod_hash = canonical_hash(
        {"api": api_config, "project": bundle.sha256, "image": ctx.image, "store": ctx.bundle_uri}
    )
    values: dict[str, Any] = {
        "api": spec.name,
        "namespace": ctx.namespace,
        "labels": L.api_labels(spec.name, project.deployment_name),
        "selector": L.api_selector(spec.name),
        "annotations": {},
        "image": ctx.image,
        "port": L.PORT,
        "port_text": str(L.PORT),
        "config_hash": pod_hash,
        "init_replicas": spec.compute.init_replicas,
        "min_replicas": spec.compute.min_replicas,
        "max_replicas": spec.compute.max_replicas,
        "target_cpu_utilization": spec.compute.target_cpu_utilization,
        "resources": resources_for(spec),
        "bundle_volume": {"name": "bundle", "emptyDir": {}} if ctx.bundle_uri else None,
        "bundle_mount": {"name": "bundle", "mountPath": "/bundle"} if ctx.bundle_uri else None,
        "bundle_zip": "/bundle/project.zip" if ctx.bundle_uri else "/config/project.zip",
        "bundle_uri": ctx.bundle_uri,
        "api_config_yaml": api_config_yaml(project, spec),
        "aws_cli_image": L.AWS_CLI_IMAGE,
        "ingress_class": ctx.ingress_class,
        "binary_data": None if ctx.bundle_uri else {
            "project.zip": base64.b64encode(bundle.data).decode("ascii")
        },
    }
    values["init_containers"] = _init_containers(ctx, values)
    return values


def render_api(
    project: Project, spec: ApiSpec, ctx: RenderContext, bundle: ProjectBundle
) -> ApiManifests:
    values = api_values(project, spec, ctx, bundle)
    configmap = fill(template("configmap.yaml"), values)
    configmap["metadata"]["annotations"][L.PROJECT_HASH] = bundle.sha256
    check_configmap_size(bundle, configmap)
    objects: list[dict[str, Any]] = [configmap]
    deployment = fill(template("deployment.yaml"), values)
    # CloudWatch monitoring on: the replica's publisher settings (nothing when off).
    deployment["spec"]["template"]["spec"]["containers"][0]["env"].extend(pod_env(ctx.aws))
    deployment["metadata"]["annotations"].update(
        {
            L.API_SPEC: json.dumps(pod_config(spec), sort_keys=True),
            L.PROJECT_HASH: bundle.sha256,
        }
    )
    objects.append(deployment)
    objects.append(fill(template("service.yaml"), values))
    objects.append(fill(template("hpa.yaml"), values))
    if ctx.ingress:
        objects.append(fill(template("ingress.yaml"), values))
    if ctx.pod_monitor:
        objects.append(fill(template("podmonitor.yaml"), values))
    return ApiManifests(api=spec.name, objects=tuple(stamp(o) for o in objects))


def render_hpa(api: str, namespace: str, deployment: str, compute: Compute) -> dict[str, Any]:
    """The HPA alone (for `scale`, which must leave it as a deploy of the new bounds would)."""
    values = {
        "api": api, "namespace": namespace, "labels": L.api_labels(api, deployment),
        "annotations": {}, "min_replicas": compute.min_replicas,
        "max_replicas": compute.max_replicas,
        "target_cpu_utilization": compute.target_cpu_utilization,
    }
    return stamp(fill(template("hpa.yaml"), values))


def render_project(
    project: Project, ctx: RenderContext, bundle: ProjectBundle
) -> list[ApiManifests]:
    return [render_api(project, spec, ctx, bundle) for spec in project.apis]


def namespace_manifest(namespace: str) -> dict[str, Any]:
    return fill(template("namespace.yaml"), {"namespace": namespace})


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False, width=100)
