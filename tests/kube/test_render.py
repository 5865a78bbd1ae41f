"""k8s_templates/ rendered from the typed config: schema-valid for Kubernetes 1.29-1.33, and the
fields SPEC §8 asks for."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cortex_tui.config import load_project
from cortex_tui.config.model import ApiSpec, Compute, Project, Tracker
from cortex_tui.kube import labels as L
from cortex_tui.kube.offline import render_for_environment
from cortex_tui.kube.project import bundle_for
from cortex_tui.kube.render import RenderContext, namespace_manifest, render_project
from cortex_tui.settings import AwsSettings
from tests.kube.conftest import EXAMPLES, IRIS

VERSIONS = ("1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0")


def _project(root: Path, *specs: ApiSpec) -> Project:
    (root / "cortex.yaml").write_text("# built in code\n")
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    return Project(root=root, config_file=root / "cortex.yaml", deployment_name="demo",
                   apis=specs)


VARIANTS = {
    "defaults": (Compute(), RenderContext(namespace="cortex")),
    "gpu-mem-ingress": (
        Compute(cpu=Decimal("1.5"), gpu=2, mem=3 * 2**30, min_replicas=2, init_replicas=3,
                max_replicas=9, target_cpu_utilization=55),
        RenderContext(namespace="ml", image="registry.example/predictor:1", ingress=True,
                      ingress_class="nginx"),
    ),
    "s3": (
        Compute(mem=500_000_000),
        RenderContext(namespace="cortex", bundle_uri="s3://models/p/demo/abc.zip",
                      aws=AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9")),
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_passes_strict_schema_validation(variant: str, tmp_path: Path) -> None:
    compute, ctx = VARIANTS[variant]
    spec = ApiSpec(name="api-one", inference="inference.py", compute=compute,
                   tracker=Tracker("regression"))
    project = _project(tmp_path, spec)
    objects = [namespace_manifest(ctx.namespace)]
    objects += [o for api in render_project(project, ctx, bundle_for(project)) for o in api.objects]
    for manifest in objects:
        for version in VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)


@pytest.mark.parametrize("example", ["iris", "housing"])
def test_the_examples_render_valid_manifests(example: str) -> None:
    rendered = render_for_environment(load_project(EXAMPLES / example), None)
    documents = list(yaml.safe_load_all(rendered.as_stream()))
    assert [d["kind"] for d in documents] == [
        "Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ]
    for manifest in documents:
        for version in VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)
    # No replica count: re-applying the files must not reset what the HPA chose.
    assert "replicas" not in documents[2]["spec"]


def test_the_deployment_carries_what_spec_8_asks_for(tmp_path: Path) -> None:
    compute, ctx = VARIANTS["gpu-mem-ingress"]
    spec = ApiSpec(name="api-one", inference="inference.py", compute=compute)
    (api,) = render_project(_project(tmp_path, spec), ctx, bundle_for(_project(tmp_path, spec)))
    deployment = api.by_kind("Deployment")
    assert deployment is not None
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/predictor:1-gpu"  # gpu > 0: the GPU variant
    assert container["command"] + container["args"] == [
        "python", "-m", "predictor", "--project", "/project", "--api", "api-one",
        "--host", "0.0.0.0", "--port=8888",
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 8888}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["resources"] == {
        "requests": {"cpu": "1500m", "memory": "3Gi", "nvidia.com/gpu": "2"},
        "limits": {"memory": "3Gi", "nvidia.com/gpu": "2"},
    }
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert {"name": "CORTEX_TERMINATION_LOG", "value": "/dev/termination-log"} in container["env"]
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment["spec"]["replicas"] == 3  # init_replicas
    labels = deployment["metadata"]["labels"]
    assert labels[L.NAME] == "api-one" and labels[L.PART_OF] == "demo"
    assert labels[L.MANAGED_BY] == "cortex-tui"
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels(deployment)
    hpa = api.by_kind("HorizontalPodAutoscaler")
    assert hpa is not None and hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 9)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 55
    ingress = api.by_kind("Ingress")
    assert ingress is not None
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/api-one" and path["backend"]["service"]["name"] == "api-one"


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"].items()


def test_no_memory_request_when_mem_is_unset_and_no_gpu_when_zero(tmp_path: Path) -> None:
    spec = ApiSpec(name="api-one", inference="inference.py")
    project = _project(tmp_path, spec)
    (api,) = render_project(project, RenderContext(namespace="x"), bundle_for(project))
    container = api.by_kind("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "200m"}}


def test_the_config_hash_rolls_pods_for_code_and_config_but_not_for_scaling_bounds(
    tmp_path: Path,
) -> None:
    def pod_hash(spec: ApiSpec) -> str:
        project = _project(tmp_path, spec)
        (api,) = render_project(project, RenderContext(namespace="x"), bundle_for(project))
        return api.by_kind("Deployment")["spec"]["template"]["metadata"]["annotations"][
            L.CONFIG_HASH]

    base = ApiSpec(name="a", inference="inference.py")
    assert pod_hash(base) == pod_hash(base)
    bounds = Compute(min_replicas=3, max_replicas=7, init_replicas=4, target_cpu_utilization=50)
    assert pod_hash(ApiSpec(name="a", inference="inference.py", compute=bounds)) == pod_hash(base)
    assert pod_hash(ApiSpec(name="a", inference="inference.py",
                            compute=Compute(cpu=Decimal(1)))) != pod_hash(base)
    (tmp_path / "model.txt").write_text("v2")
    assert pod_hash(base) != pod_hash(ApiSpec(name="b", inference="inference.py"))


def test_render_with_a_project_store_writes_the_bundle_to_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.yaml").write_text(yaml.safe_dump({"environments": {"prod": {
        "namespace": "models", "project_store": "s3://bucket/cortex", "image": "reg/p:2"}}}))
    monkeypatch.setenv("CORTEX_TUI_HOME", str(home))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # renders offline
    rendered = render_for_environment(load_project(EXAMPLES / "iris"), "prod")
    written = rendered.write(tmp_path / "out")
    assert written[-1].name.startswith("project-") and written[-1].suffix == ".zip"
    deployment = next(o for o in yaml.safe_load_all((tmp_path / "out" / f"{IRIS}.yaml")
                      .read_text()) if o["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "models"
    assert rendered.bundle_uri and rendered.bundle_uri.startswith("s3://bucket/cortex/iris/")
    fetch = deployment["spec"]["template"]["spec"]["initContainers"][0]
    assert rendered.bundle_uri in fetch["command"]


@pytest.mark.parametrize("example", ["iris", "housing"])
def test_the_shipped_config_loads_as_the_same_api(example: str) -> None:
    from cortex_tui.config import validate_text
    from cortex_tui.config.scaling import SCALE_KEYS
    from cortex_tui.kube.render import api_config_yaml

    project = load_project(EXAMPLES / example)
    (spec,) = project.apis
    shipped, problems = validate_text(api_config_yaml(project, spec), project.root)
    assert problems == [] and shipped is not None
    assert shipped.deployment_name == project.deployment_name
    mine, theirs = spec.to_dict(), shipped.apis[0].to_dict()
    for key in SCALE_KEYS:  # the HPA holds these
        mine["compute"].pop(key), theirs["compute"].pop(key)
    assert mine == theirs


def test_the_unpack_init_container_restores_the_project_with_exec_bits(tmp_path: Path) -> None:
    """Run the rendered init container's script here (its /config and /project paths moved
    into tmp_path): every shipped file comes back, an executable stays executable."""
    root = tmp_path / "project"
    root.mkdir()
    spec = ApiSpec(name="api-one", inference="inference.py")
    project = _project(root, spec)
    (root / "tools").mkdir()
    (root / "tools" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "tools" / "run.sh").chmod(0o755)
    bundle = bundle_for(project)
    [api] = render_project(project, RenderContext(namespace="cortex"), bundle)
    deployment = next(o for o in api.objects if o["kind"] == "Deployment")
    [unpack] = deployment["spec"]["template"]["spec"]["initContainers"]
    config, out = tmp_path / "config", tmp_path / "out"
    config.mkdir()
    (config / "project.zip").write_bytes(bundle.data)
    (config / "cortex.yaml").write_text("# the API's config\n")
    script = unpack["command"][-1].replace('"/config/', f'"{config}/')
    script = script.replace('"/project"', f'"{out}"').replace('"/project/', f'"{out}/')
    subprocess.run([sys.executable, "-c", script], check=True)
    assert (out / "inference.py").read_text() == (root / "inference.py").read_text()
    assert (out / "cortex.yaml").read_text() == "# the API's config\n"
    assert (out / "tools" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (out / "inference.py").stat().st_mode & 0o111 == 0
