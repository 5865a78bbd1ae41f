"""Rendering without a cluster (`cortex-tui render`): manifests for an environment, to files."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cortex_tui.config.files import DEFAULT_IGNORE
from cortex_tui.config.model import Project
from cortex_tui.errors import UserError
from cortex_tui.kube import autoscaling
from cortex_tui.kube import labels as L
from cortex_tui.kube.project import ProjectBundle, S3Location, bundle_for
from cortex_tui.kube.render import (
    POD_UID,
    REQUIREMENTS,
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
IN_FLIGHT_MONITOR = "in-flight-podmonitor.yaml"
ADAPTER_VALUES = "prometheus-adapter-values.yaml"
ADAPTER_HEADER = ("# prometheus-adapter Helm values: the custom metric the HPAs of in_flight APIs "
                  "read.\n# helm upgrade --install prometheus-adapter "
                  "prometheus-community/prometheus-adapter -f THIS_FILE\n")


@dataclass(frozen=True)
class Rendered:
    namespace: dict[str, Any]
    apis: list[ApiManifests]
    bundle: ProjectBundle
    bundle_uri: str | None
    # autoscale_on: in_flight: what serves the HPA's Pods metric (PodMonitor, adapter rules)
    pod_monitor: dict[str, Any] | None = None
    adapter_rules: dict[str, Any] | None = None

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
        if self.pod_monitor is not None and self.adapter_rules is not None:
            path = folder / IN_FLIGHT_MONITOR
            path.write_text(to_yaml([self.pod_monitor]), encoding="utf-8")
            written.append(path)
            path = folder / ADAPTER_VALUES
            path.write_text(ADAPTER_HEADER + to_yaml([self.adapter_rules]), encoding="utf-8")
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
    apis = [_without_replicas(api) for api in render_project(project, ctx, bundle)]
    in_flight = bool(autoscaling.in_flight_apis(project))
    return Rendered(
        namespace=namespace_manifest(ctx.namespace),
        apis=apis,
        bundle=bundle,
        bundle_uri=bundle_uri,
        pod_monitor=autoscaling.pod_monitor(project, ctx.namespace) if in_flight else None,
        adapter_rules=autoscaling.adapter_rules(project) if in_flight else None,
    )


DOCKERFILE_MARK = "# Generated by `cortex-tui render --dockerfile`"
DOCKERFILE = """\
{mark} for the project "{name}": the predictor
# image with this project and its requirements built in. Build it from the project folder,
# push it, and name it in cortex.yaml (`image:` on an API, or on `kind: deployment`): its pods
# then skip unpacking the project and installing requirements, and every pod runs exactly
# what was built. Rebuild (with a new tag) when the code or requirements.txt change.
#   docker build -t registry.example.com/{name}:1 .
# APIs with compute.gpu > 0: --build-arg BASE={image}{gpu}
ARG BASE={image}
FROM ${{BASE}}
USER root
{requirements}COPY . /project
USER {uid}:{uid}
"""
REQUIREMENTS_STEP = """\
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt
"""


def project_dockerfile(project: Project, base_image: str) -> str:
    requirements = REQUIREMENTS_STEP if (project.root / REQUIREMENTS).is_file() else ""
    return DOCKERFILE.format(mark=DOCKERFILE_MARK, name=project.deployment_name,
                             image=base_image + _runtime_suffix(project),
                             gpu=L.GPU_TAG_SUFFIX, uid=POD_UID, requirements=requirements)


def _runtime_suffix(project: Project) -> str:
    """The predictor image variant holding the project's model runtime (onnx / tensorflow):
    one project image serves every API, so it can hold one of them."""
    runtimes = sorted({spec.runtime for spec in project.apis} - {"python"})
    if len(runtimes) > 1:
        raise UserError(f"one project image holds one model runtime, and this project has "
                        f"{' and '.join(runtimes)} APIs: give the APIs of one of them their own "
                        "image (`image:` on the API), or none")
    return L.RUNTIME_TAG_SUFFIX[runtimes[0]] if runtimes else ""


def dockerignore() -> str:
    """What the image leaves out: what a deploy never ships by default (secrets, version
    control, virtual environments, caches; `config.files`), at any depth."""
    return "\n".join([f"{DOCKERFILE_MARK}: not sent to the builder",
                      *(f"**/{pattern.rstrip('/')}" for pattern in DEFAULT_IGNORE),
                      "Dockerfile", ".dockerignore", ""])


def write_dockerfile(project: Project, env_name: str | None) -> list[Path]:
    """`render --dockerfile`: Dockerfile and .dockerignore in the project folder, FROM the
    environment's predictor image. A file of the same name we did not write is kept."""
    environment = resolve(env_name)
    files = {
        project.root / "Dockerfile": project_dockerfile(
            project, environment.image or L.DEFAULT_IMAGE),
        project.root / ".dockerignore": dockerignore(),
    }
    for path in files:
        if path.exists() and not path.read_text(errors="replace").startswith(DOCKERFILE_MARK):
            raise UserError(f"{path} exists and was not written by cortex-tui: it is left "
                            "alone (move it away to generate the project image's)")
    for path, text in files.items():
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return list(files)
