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
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from cortex_tui.aws.pod_env import pod_env
from cortex_tui.config.model import (
    S3_PREFIX,
    ApiSpec,
    Compute,
    ConfigError,
    Project,
    format_cpu,
)
from cortex_tui.config.quantity import format_bytes
from cortex_tui.config.scaling import AUTOSCALER_KEYS
from cortex_tui.kube import labels as L
from cortex_tui.kube.autoscaling import hpa_behavior, hpa_metrics
from cortex_tui.kube.autoscaling import problems as autoscaling_problems
from cortex_tui.kube.project import ProjectBundle, check_configmap_size
from cortex_tui.settings import AwsSettings, Environment
from predictor.model_store import CACHE_ENV as MODEL_CACHE_ENV
from predictor.options import DEFAULT_GRACE_SECONDS

Obj = dict[str, Any]
POD_UID = 10001  # the user (and group) of predictor/Dockerfile's image
PRESTOP_SECONDS = 5  # the endpoints controller removes a stopping pod meanwhile
DRAIN_SECONDS = DEFAULT_GRACE_SECONDS  # the replica's SIGTERM drain (CORTEX_GRACE_SECONDS)
TERMINATION_GRACE_SECONDS = int(PRESTOP_SECONDS + DRAIN_SECONDS + 10)
INGRESS_NAMESPACE = "ingress-nginx"  # the NetworkPolicy admits the ingress controller's pods
PACKAGES = "/packages"  # where the requirements init container installs (PYTHONPATH)
REQUIREMENTS = "requirements.txt"
MODEL_CACHE = "/models"  # an emptyDir: the fetch-model init container downloads s3:// models
# Init containers are short file copies and a pip install: fixed, modest resources, so that a
# namespace with a ResourceQuota admits the pod.
INIT_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"},
                  "limits": {"cpu": "1", "memory": "1Gi"}}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}
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
    service_account: str | None = None  # the pods' identity (IRSA for S3 / CloudWatch)
    network_policy: bool = False

    @classmethod
    def for_environment(cls, environment: Environment, namespace: str, bundle_uri: str | None,
                        network_policy: bool = False, **options: Any) -> RenderContext:
        """What deploy and render both take from the environment (and render's options)."""
        return cls(namespace=namespace, image=environment.image or L.DEFAULT_IMAGE,
                   bundle_uri=bundle_uri, aws=environment.aws,
                   service_account=environment.service_account,
                   network_policy=network_policy or environment.network_policy, **options)


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
        requests["memory"] = format_bytes(c.mem)
        limits["memory"] = format_bytes(c.mem)  # a limit makes running out of memory visible
    if c.gpu > 0:
        requests[L.GPU_RESOURCE] = str(c.gpu)
        limits[L.GPU_RESOURCE] = str(c.gpu)
    return {"requests": requests, "limits": limits} if limits else {"requests": requests}


def image_for(spec: ApiSpec, ctx: RenderContext) -> str:
    """The image of an API's pods: its project image (`image:` in cortex.yaml) as named, else
    the environment's (or the default) predictor image, in the variant holding the API's model
    runtime (tag suffix `-onnx` / `-tensorflow`), then in its GPU variant (suffix `-gpu`) when
    the API asks for GPUs."""
    if spec.image:
        return spec.image
    image = f"{ctx.image}{L.RUNTIME_TAG_SUFFIX[spec.runtime]}"
    return f"{image}{L.GPU_TAG_SUFFIX}" if spec.compute.gpu > 0 else image


def has_requirements(project: Project) -> bool:
    return (project.root / REQUIREMENTS).is_file()


def _init_containers(
    project: Project, spec: ApiSpec, ctx: RenderContext, values: dict[str, Any]
) -> list[dict[str, Any]] | None:
    containers = []
    if not spec.image:  # else: a project image holds the project and its requirements
        if ctx.bundle_uri:
            args = ["--endpoint-url", ctx.aws.endpoint_url] if ctx.aws and ctx.aws.endpoint_url \
                else None
            containers.append(fill(template("init-fetch-s3.yaml"),
                                   {**values, "aws_env": _aws_env(ctx), "aws_cli_args": args}))
        containers.append(fill(template("init-unpack.yaml"), values))
        if has_requirements(project):
            containers.append(fill(template("init-requirements.yaml"), values))
    if _s3_model(spec):
        env = [*_aws_env(ctx), {"name": MODEL_CACHE_ENV, "value": MODEL_CACHE}]
        if ctx.aws and ctx.aws.endpoint_url:
            env.append({"name": "AWS_ENDPOINT_URL", "value": ctx.aws.endpoint_url})
        containers.append(fill(template("init-fetch-model.yaml"),
                               {**values, "model_uri": spec.model, "model_env": env}))
    return containers or None


def _aws_env(ctx: RenderContext) -> list[Obj]:
    env = [{"name": "HOME", "value": "/tmp"}]
    if ctx.aws and ctx.aws.region:
        env.append({"name": "AWS_REGION", "value": ctx.aws.region})
    return env


def _s3_model(spec: ApiSpec) -> bool:
    return spec.model is not None and spec.model.startswith(S3_PREFIX)


def _volumes(
    spec: ApiSpec, ctx: RenderContext, requirements: bool
) -> tuple[list[Obj], list[Obj]]:
    """The pod's volumes and the predictor's mounts: every path written is an emptyDir (the
    root file system is read-only)."""
    config = {"name": "config", "configMap": {"name": f"{spec.name}-project"}}
    if spec.image:  # the project is in the image; the API's config comes from the ConfigMap
        volumes, mounts = [{"name": "tmp", "emptyDir": {}}, config], [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "config", "mountPath": "/project/cortex.yaml", "subPath": "cortex.yaml",
             "readOnly": True},
        ]
        if _s3_model(spec):
            volumes.append({"name": "models", "emptyDir": {}})
            mounts.append({"name": "models", "mountPath": MODEL_CACHE, "readOnly": True})
        return volumes, mounts
    volumes: list[Obj] = [
        {"name": "project", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
        config,
    ]
    mounts: list[Obj] = [
        {"name": "project", "mountPath": "/project"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if ctx.bundle_uri:
        volumes.append({"name": "bundle", "emptyDir": {}})
    if _s3_model(spec):  # downloaded by the fetch-model init container
        volumes.append({"name": "models", "emptyDir": {}})
        mounts.append({"name": "models", "mountPath": MODEL_CACHE, "readOnly": True})
    if requirements:
        volumes += [{"name": "packages", "emptyDir": {}}, {"name": "pip-cache", "emptyDir": {}}]
        mounts.append({"name": "packages", "mountPath": PACKAGES, "readOnly": True})
    return volumes, mounts


def _env(spec: ApiSpec, requirements: bool) -> list[Obj]:
    env = [
        {"name": "CORTEX_PROJECT", "value": "/project"},
        {"name": "CORTEX_API", "value": spec.name},
        {"name": "CORTEX_HOST", "value": "0.0.0.0"},
        {"name": "CORTEX_PORT", "value": str(L.PORT)},
        {"name": "CORTEX_TERMINATION_LOG", "value": "/dev/termination-log"},
        {"name": "CORTEX_GRACE_SECONDS", "value": f"{DRAIN_SECONDS:g}"},
    ]
    if requirements:
        env.append({"name": "PYTHONPATH", "value": PACKAGES})
    if _s3_model(spec):
        env.append({"name": MODEL_CACHE_ENV, "value": MODEL_CACHE})
    return env


def _spread(spec: ApiSpec) -> list[Obj]:
    """Replicas spread over nodes and zones where the scheduler can (never blocks one)."""
    return [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": L.api_selector(spec.name)}}
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]


def _disruption_budget(compute: Compute) -> tuple[int | None, int | None]:
    """(maxUnavailable, minAvailable): one replica at a time, or min_replicas - 1 kept."""
    if compute.min_replicas - 1 > 1:
        return None, compute.min_replicas - 1
    return 1, None


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



def pod_config(spec: ApiSpec) -> dict[str, Any]:
    """The API's config as the replicas see it (everything but the autoscaling bounds), with
    sizes as quantities ("128Mi", not 134217728)."""
    config = spec.to_dict()
    compute = config["compute"]
    for key in AUTOSCALER_KEYS:  # autoscaling lives in the HPA: changing it must not roll pods
        compute.pop(key)
    for key in ("mem", "max_body_size"):
        if compute[key] is not None:
            compute[key] = format_bytes(compute[key])
    return config


def api_values(
    project: Project, spec: ApiSpec, ctx: RenderContext, bundle: ProjectBundle
) -> dict[str, Any]:
    api_config = pod_config(spec)
    image = image_for(spec, ctx)
    if spec.image:  # nothing shipped: the project is in the image (its tag says which)
        ctx = replace(ctx, bundle_uri=None)
    pod_hash = canonical_hash({
        "api": api_config, "project": None if spec.image else bundle.sha256, "image": image,
        "store": ctx.bundle_uri,
    })
    requirements = has_requirements(project) and not spec.image
    volumes, mounts = _volumes(spec, ctx, requirements)
    max_unavailable, min_available = _disruption_budget(spec.compute)
    values: dict[str, Any] = {
        "api": spec.name,
        "namespace": ctx.namespace,
        "labels": L.api_labels(spec.name, project.deployment_name),
        "selector": L.api_selector(spec.name),
        "annotations": {},
        "image": image,
        "port": L.PORT,
        "config_hash": pod_hash,
        "init_replicas": spec.compute.init_replicas,
        "min_replicas": spec.compute.min_replicas,
        "max_replicas": spec.compute.max_replicas,
        "target_cpu_utilization": spec.compute.target_cpu_utilization,
        "metrics": hpa_metrics(spec.compute),
        "behavior": hpa_behavior(spec.compute),
        "resources": resources_for(spec),
        "init_resources": INIT_RESOURCES,
        "uid": POD_UID,
        "container_security": CONTAINER_SECURITY,
        "automount_token": ctx.service_account is not None,
        "service_account": ctx.service_account,
        "termination_grace": TERMINATION_GRACE_SECONDS,
        "prestop_seconds": str(PRESTOP_SECONDS),
        "spread": _spread(spec),
        "tolerations": [{"key": L.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
        if spec.compute.gpu > 0 else None,
        "env": _env(spec, requirements),
        "volumes": volumes,
        "predictor_mounts": mounts,
        "pdb_max_unavailable": max_unavailable,
        "pdb_min_available": min_available,
        "bundle_mount": {"name": "bundle", "mountPath": "/bundle"} if ctx.bundle_uri else None,
        "bundle_zip": "/bundle/project.zip" if ctx.bundle_uri else "/config/project.zip",
        "bundle_uri": ctx.bundle_uri,
        "api_config_yaml": api_config_yaml(project, spec),
        "aws_cli_image": L.AWS_CLI_IMAGE,
        "ingress_class": ctx.ingress_class,
        "ingress_namespace": INGRESS_NAMESPACE,
        "binary_data": None if ctx.bundle_uri or spec.image else {
            "project.zip": base64.b64encode(bundle.data).decode("ascii")
        },
    }
    values["init_containers"] = _init_containers(project, spec, ctx, values)
    return values


def render_api(
    project: Project, spec: ApiSpec, ctx: RenderContext, bundle: ProjectBundle
) -> ApiManifests:
    values = api_values(project, spec, ctx, bundle)
    shipped = {} if spec.image else {L.PROJECT_HASH: bundle.sha256}  # else: in the image
    configmap = fill(template("configmap.yaml"), values)
    configmap["metadata"]["annotations"].update(shipped)
    check_configmap_size(bundle, configmap)
    objects: list[dict[str, Any]] = [configmap]
    deployment = fill(template("deployment.yaml"), values)
    # CloudWatch monitoring on: the replica's publisher settings (nothing when off).
    deployment["spec"]["template"]["spec"]["containers"][0]["env"].extend(pod_env(ctx.aws))
    deployment["metadata"]["annotations"].update(
        {L.API_SPEC: json.dumps(pod_config(spec), sort_keys=True), **shipped}
    )
    objects.append(deployment)
    objects.append(fill(template("service.yaml"), values))
    objects.append(fill(template("hpa.yaml"), values))
    objects.append(fill(template("pdb.yaml"), values))
    if ctx.ingress:
        objects.append(fill(template("ingress.yaml"), values))
    if ctx.pod_monitor:
        objects.append(fill(template("podmonitor.yaml"), values))
    if ctx.network_policy:
        objects.append(fill(template("networkpolicy.yaml"), values))
    return ApiManifests(api=spec.name, objects=tuple(stamp(o) for o in objects))


def render_hpa(api: str, namespace: str, deployment: str, compute: Compute) -> dict[str, Any]:
    """The HPA alone (for `scale`, which must leave it as a deploy of the new bounds would)."""
    values = {
        "api": api, "namespace": namespace, "labels": L.api_labels(api, deployment),
        "annotations": {}, "min_replicas": compute.min_replicas,
        "max_replicas": compute.max_replicas,
        "target_cpu_utilization": compute.target_cpu_utilization,
        "metrics": hpa_metrics(compute), "behavior": hpa_behavior(compute),
    }
    return stamp(fill(template("hpa.yaml"), values))


def render_pdb(api: str, namespace: str, deployment: str, compute: Compute) -> dict[str, Any]:
    """The PodDisruptionBudget alone (`scale` keeps it in step with min_replicas)."""
    max_unavailable, min_available = _disruption_budget(compute)
    values = {
        "api": api, "namespace": namespace, "labels": L.api_labels(api, deployment),
        "selector": L.api_selector(api), "annotations": {},
        "pdb_max_unavailable": max_unavailable, "pdb_min_available": min_available,
    }
    return stamp(fill(template("pdb.yaml"), values))


def render_project(
    project: Project, ctx: RenderContext, bundle: ProjectBundle
) -> list[ApiManifests]:
    """Every API's manifests; ConfigError when the project asks what Kubernetes cannot do."""
    found = autoscaling_problems(project)
    if found:
        raise ConfigError(found)
    return [render_api(project, spec, ctx, bundle) for spec in project.apis]


def namespace_manifest(namespace: str) -> dict[str, Any]:
    return fill(template("namespace.yaml"), {"namespace": namespace})


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False, width=100)
