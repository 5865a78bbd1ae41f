"""Rendering without a cluster (`cortex-tui render`): manifests for an environment, to files."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cortex_tui.config.model import Project
from cortex_tui.kube.project import ProjectBundle, S3Location, bundle_for
from cortex_tui.kube.render import (
    ApiManifests,
    RenderContext,
    namespace_manifest,
    render_project,
    to_yaml,
)
from cortex_tui.settings import DEFAULT_NAMESPACE, resolve

# Plain (client-side) `kubectl apply` copies the whole object into an annotation, and all of an
# object's annotations together may hold at most 256 KiB: a bigger ConfigMap needs
# `kubectl apply --server-side` (or `kubectl create`).
ANNOTATIONS_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Rendered:
    namespace: dict[str, Any]
    apis: list[ApiManifests]
    bundle: ProjectBundle
    bundle_uri: str | None

    def as_stream(self) -> str:
        objects = [self.namespace] + [o for api in self.apis for o in api.objects]
        return to_yaml(objects)

    def too_large_for_client_side_apply(self) -> list[str]:
        """Objects plain `kubectl apply` would refuse (see ANNOTATIONS_LIMIT)."""
        return [
            f"{obj['kind']} {obj['metadata']['name']}"
            for api in self.apis for obj in api.objects
            if len(json.dumps(obj, separators=(",", ":"))) > ANNOTATIONS_LIMIT
        ]

    def write(self, folder: Path) -> list[Path]:
        """namespace.yaml, NAME.yaml per API, and the project zip when it ships through S3."""
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "namespace.yaml"]
        written[0].write_text(to_yaml([self.namespace]), encoding="utf-8")
        for api in self.apis:
            path = folder / f"{api.api}.yaml"
            path.write_text(to_yaml(list(api.objects)), encoding="utf-8")
            written.append(path)
        if self.bundle_uri:
            path = folder / f"project-{self.bundle.short_hash}.zip"
            path.write_bytes(self.bundle.data)
            written.append(path)
        return written


def _without_replicas(api: ApiManifests) -> ApiManifests:
    """The Deployment without `spec.replicas`, as Kubernetes advises for an HPA's target: each
    `kubectl apply` (or GitOps sync) of a count would reset the replicas the HPA chose. The HPA
    brings a new Deployment (1 replica) up to `min_replicas`; `init_replicas` is for deploy."""
    objects = []
    for obj in api.objects:
        if obj["kind"] == "Deployment":
            obj = {**obj, "spec": {k: v for k, v in obj["spec"].items() if k != "replicas"}}
        objects.append(obj)
    return replace(api, objects=tuple(objects))


def render_for_environment(
    project: Project, env_name: str | None, ingress: bool = False,
    ingress_class: str | None = None, pod_monitor: bool = False,
    network_policy: bool = False,
) -> Rendered:
    environment = resolve(env_name)
    namespace = environment.namespace
    if namespace is None and environment.kind == "kubernetes":
        from cortex_tui.errors import BackendError
        from cortex_tui.kube.client import namespace_for

        try:
            namespace = namespace_for(environment)
        except BackendError:
            namespace = None  # rendering needs no cluster: an unknown context is fine
    bundle = bundle_for(project)
    bundle_uri = None
    if environment.project_store:
        location = S3Location.parse(environment.project_store)
        bundle_uri = location.uri_for(project.deployment_name, bundle)
    ctx = RenderContext.for_environment(
        environment, namespace or DEFAULT_NAMESPACE, bundle_uri, ingress=ingress,
        ingress_class=ingress_class, pod_monitor=pod_monitor, network_policy=network_policy,
    )
    return Rendered(
        namespace=namespace_manifest(ctx.namespace),
        apis=[_without_replicas(api) for api in render_project(project, ctx, bundle)],
        bundle=bundle,
        bundle_uri=bundle_uri,
    )
