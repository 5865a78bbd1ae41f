"""What render writes fits a hardened production cluster (issue #15): Pod Security
`restricted`, requests and limits on every init container, requirements installed by an init
container, probes, disruption budget, spread, GPU variant, quantities as written, the optional
NetworkPolicy. The fake API server's admission (tests/helpers/fakekube/admission.py) is the
reference for what a restricted namespace and a ResourceQuota accept."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from cortex_tui.cli import main
from cortex_tui.config.model import ApiSpec, Compute, Project
from cortex_tui.kube import labels as L
from cortex_tui.kube.project import bundle_for
from cortex_tui.kube.render import RenderContext, render_project
from tests.helpers.fakekube.admission import quota_violation, restricted_violations
from tests.helpers.fakekube.fake import COMPUTE_QUOTA
from tests.kube.conftest import EXAMPLES, IRIS

Obj = dict[str, Any]


def _render(tmp_path: Path, compute: Compute | None = None, ctx: RenderContext | None = None,
            files: dict[str, str] | None = None) -> dict[str, Obj]:
    root = tmp_path / "project"
    root.mkdir(parents=True, exist_ok=True)
    (root / "cortex.yaml").write_text("# built in code\n")
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    spec = ApiSpec(name="api-one", inference="inference.py", compute=compute or Compute())
    project = Project(root=root, config_file=root / "cortex.yaml", deployment_name="demo",
                      apis=(spec,))
    ctx = ctx or RenderContext(namespace="cortex")
    (api,) = render_project(project, ctx, bundle_for(project))
    return {o["kind"]: o for o in api.objects}


def _pod(objects: dict[str, Obj]) -> Obj:
    return objects["Deployment"]["spec"]["template"]["spec"]


def _all_containers(pod: Obj) -> list[Obj]:
    return pod["initContainers"] + pod["containers"]


S3 = RenderContext(namespace="cortex", bundle_uri="s3://models/p/demo/abc.zip")


@pytest.mark.parametrize("ctx", [RenderContext(namespace="cortex"), S3], ids=["configmap", "s3"])
def test_the_pod_passes_pod_security_restricted_with_a_read_only_root(
    tmp_path: Path, ctx: RenderContext
) -> None:
    pod = _pod(_render(tmp_path, Compute(mem=2**27), ctx, {"requirements.txt": "numpy\n"}))
    assert restricted_violations(pod) == []
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"]
    for container in _all_containers(pod):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, container["name"]
        # Whatever a container writes is an emptyDir (the root file system is read-only).
        volumes = {v["name"]: v for v in pod["volumes"]}
        for mount in container["volumeMounts"]:
            if not mount.get("readOnly"):
                assert "emptyDir" in volumes[mount["name"]], (container["name"], mount)
    (predictor,) = pod["containers"]
    assert {m["mountPath"] for m in predictor["volumeMounts"]} >= {"/tmp", "/project",
                                                                     "/packages"}


def test_every_container_states_what_a_resource_quota_requires(tmp_path: Path) -> None:
    pod = _pod(_render(tmp_path, Compute(mem=2**27), S3, {"requirements.txt": "numpy\n"}))
    assert [c["name"] for c in pod["initContainers"]] == [
        "fetch-project", "unpack-project", "install-requirements"]
    assert quota_violation({"metadata": {"name": "compute"}, "spec": {"hard": COMPUTE_QUOTA}},
                           pod) is None
    for init in pod["initContainers"]:
        assert set(init["resources"]["requests"]) == set(init["resources"]["limits"]) == {
            "cpu", "memory"}, init["name"]


def test_requirements_are_installed_by_an_init_container_into_an_emptydir(
    tmp_path: Path,
) -> None:
    pod = _pod(_render(tmp_path, files={"requirements.txt": "numpy==2.1\n"}))
    install = pod["initContainers"][-1]
    assert install["name"] == "install-requirements"
    assert install["command"] == ["python", "-m", "predictor.requirements",
                                  "/project/requirements.txt", "--target", "/packages"]
    mounts = {m["mountPath"]: m["name"] for m in install["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/packages"]] and "emptyDir" in volumes[mounts[
        "/pip-cache"]]
    assert {"name": "PIP_CACHE_DIR", "value": "/pip-cache"} in install["env"]
    (predictor,) = pod["containers"]
    assert {"name": "PYTHONPATH", "value": "/packages"} in predictor["env"]
    assert "CORTEX_INSTALL_REQUIREMENTS" not in json.dumps(pod)
    # Without requirements.txt: no install step, no PYTHONPATH.
    plain = _pod(_render(tmp_path / "plain"))
    assert [c["name"] for c in plain["initContainers"]] == ["unpack-project"]
    assert "PYTHONPATH" not in json.dumps(plain)


def test_probes_startup_for_slow_init_readiness_and_a_distinct_liveness(tmp_path: Path) -> None:
    (predictor,) = _pod(_render(tmp_path))["containers"]
    startup, ready, live = (predictor[k] for k in ("startupProbe", "readinessProbe",
                                                    "livenessProbe"))
    assert startup["httpGet"]["path"] == ready["httpGet"]["path"] == "/healthz"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600  # 10 min of init
    assert live["httpGet"]["path"] == "/livez"
    assert live["periodSeconds"] * live["failureThreshold"] >= 60  # a stall of a minute
    assert live["timeoutSeconds"] >= 5


def test_termination_grace_covers_the_prestop_delay_and_the_drain(tmp_path: Path) -> None:
    objects = _render(tmp_path)
    pod = _pod(objects)
    (predictor,) = pod["containers"]
    prestop = int(predictor["lifecycle"]["preStop"]["exec"]["command"][-1])
    drain = float(next(e["value"] for e in predictor["env"]
                       if e["name"] == "CORTEX_GRACE_SECONDS"))
    assert pod["terminationGracePeriodSeconds"] >= prestop + drain
    assert objects["Deployment"]["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "25%", "maxUnavailable": 0}


@pytest.mark.parametrize(("low", "budget"), [
    (1, {"maxUnavailable": 1}), (2, {"maxUnavailable": 1}), (3, {"minAvailable": 2}),
    (5, {"minAvailable": 4}),
])
def test_a_disruption_budget_per_api(tmp_path: Path, low: int, budget: Obj) -> None:
    compute = Compute(min_replicas=low, init_replicas=low, max_replicas=10)
    objects = _render(tmp_path, compute)
    pdb = objects["PodDisruptionBudget"]
    assert {k: v for k, v in pdb["spec"].items() if k != "selector"} == budget
    assert pdb["spec"]["selector"]["matchLabels"] == objects["Deployment"]["spec"]["selector"][
        "matchLabels"]
    kubernetes_validate.validate(pdb, "1.33.0", strict=True)


def test_replicas_spread_over_nodes_and_zones_without_blocking(tmp_path: Path) -> None:
    spread = _pod(_render(tmp_path))["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname",
                                                  "topology.kubernetes.io/zone"}
    assert {c["whenUnsatisfiable"] for c in spread} == {"ScheduleAnyway"}


def test_no_service_account_token_unless_the_environment_names_an_identity(
    tmp_path: Path,
) -> None:
    pod = _pod(_render(tmp_path))
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod
    irsa = RenderContext(namespace="cortex", bundle_uri="s3://m/p.zip",
                         service_account="cortex-predictor")
    pod = _pod(_render(tmp_path / "irsa", ctx=irsa))
    assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == (
        "cortex-predictor", True)


def test_gpu_apis_get_the_gpu_image_and_the_gpu_toleration(tmp_path: Path) -> None:
    cpu = _pod(_render(tmp_path, ctx=RenderContext(namespace="c", image="reg/pred:2")))
    assert cpu["containers"][0]["image"] == "reg/pred:2" and "tolerations" not in cpu
    gpu = _pod(_render(tmp_path / "gpu", Compute(gpu=1),
                       RenderContext(namespace="c", image="reg/pred:2")))
    assert gpu["containers"][0]["image"] == f"reg/pred:2{L.GPU_TAG_SUFFIX}"
    assert gpu["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists",
                                   "effect": "NoSchedule"}]


def test_every_object_carries_the_version_label(tmp_path: Path) -> None:
    for obj in _render(tmp_path).values():
        assert obj["metadata"]["labels"][L.VERSION], obj["kind"]


@pytest.mark.parametrize(("mem", "written"), [
    (128 * 2**20, "128Mi"), (500_000_000, "500M"), (3 * 2**30, "3Gi"), (1000, "1k"),
    (1023, "1023"),
])
def test_quantities_read_as_written(tmp_path: Path, mem: int, written: str) -> None:
    objects = _render(tmp_path, Compute(mem=mem, cpu=Decimal("0.25")))
    (predictor,) = _pod(objects)["containers"]
    assert predictor["resources"]["requests"] == {"cpu": "250m", "memory": written}
    spec = json.loads(objects["Deployment"]["metadata"]["annotations"][L.API_SPEC])
    assert (spec["compute"]["mem"], spec["compute"]["max_body_size"]) == (written, "10Mi")


def test_render_network_policy_admits_only_the_ingress_controller_and_prometheus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert main(["render", "-p", str(EXAMPLES / "iris"), "--network-policy"]) == 0
    out = capsys.readouterr().out
    (policy,) = [d for d in yaml.safe_load_all(out) if d["kind"] == "NetworkPolicy"]
    kubernetes_validate.validate(policy, "1.33.0", strict=True)
    assert policy["spec"]["podSelector"]["matchLabels"][L.NAME] == IRIS
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {
            "app.kubernetes.io/name": "prometheus"}}},
    ]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    without = _render(tmp_path)
    assert "NetworkPolicy" not in without


def _image_project(tmp_path: Path, image_line: str) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    (root / "requirements.txt").write_text("numpy\n")
    (root / "cortex.yaml").write_text(
        "- kind: api\n  name: api-one\n  python: {inference: inference.py}\n"
        "  compute: {gpu: 1, mem: 1Gi}\n"
        f"- kind: deployment\n  name: shop\n{image_line}")
    return root


def test_a_project_image_skips_both_init_steps_and_ships_only_the_config(
    tmp_path: Path,
) -> None:
    from cortex_tui.config import load_project

    root = _image_project(tmp_path, "  image: reg.example/shop:7\n")
    project = load_project(root)
    (api,) = render_project(project, S3, bundle_for(project))
    objects = {o["kind"]: o for o in api.objects}
    pod = _pod(objects)
    assert "initContainers" not in pod
    (predictor,) = pod["containers"]
    assert predictor["image"] == "reg.example/shop:7"  # as named, even for a GPU API
    assert "PYTHONPATH" not in json.dumps(predictor["env"])
    assert {"name": "config", "mountPath": "/project/cortex.yaml", "subPath": "cortex.yaml",
            "readOnly": True} in predictor["volumeMounts"]
    assert "binaryData" not in objects["ConfigMap"] and "cortex.yaml" in objects["ConfigMap"][
        "data"]
    assert restricted_violations(pod) == []
    kubernetes_validate.validate(objects["Deployment"], "1.33.0", strict=True)
    # The code is in the image: editing it does not roll the pods (a new image tag does).
    template_hash = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return 2\n")
    (again,) = render_project(project, S3, bundle_for(project))
    assert _pod({o["kind"]: o for o in again.objects}) == pod
    assert again.by_kind("Deployment")["spec"]["template"]["metadata"]["annotations"] == (
        template_hash)


def test_render_dockerfile_writes_the_project_image_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.yaml").write_text("environments:\n  prod:\n    image: reg.example/p:3\n")
    monkeypatch.setenv("CORTEX_TUI_HOME", str(home))
    root = _image_project(tmp_path, "")
    assert main(["render", "-p", str(root), "--dockerfile", "-e", "prod"]) == 0
    dockerfile = (root / "Dockerfile").read_text()
    steps = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert steps == [
        "ARG BASE=reg.example/p:3", "FROM ${BASE}", "USER root",
        "COPY requirements.txt /tmp/requirements.txt",
        "RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt",
        "COPY . /project", "USER 10001:10001",
    ]
    assert "**/.git" in (root / ".dockerignore").read_text().splitlines()
    assert capsys.readouterr().out.split() == [str(root / "Dockerfile"),
                                               str(root / ".dockerignore")]
    # Regenerating is fine; someone else's Dockerfile is left alone, with a clear error.
    assert main(["render", "-p", str(root), "--dockerfile", "-e", "prod"]) == 0
    (root / "Dockerfile").write_text("FROM python:3.11\n")
    assert main(["render", "-p", str(root), "--dockerfile"]) == 1
    assert "exists and was not written by cortex-tui" in capsys.readouterr().err
    assert (root / "Dockerfile").read_text() == "FROM python:3.11\n"
