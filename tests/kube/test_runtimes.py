"""Kubernetes manifests of onnx and tensorflow APIs: the image variant holding the runtime, and
an init container that downloads an s3:// model once per pod."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cortex_tui.cli import main
from cortex_tui.config import load_project
from cortex_tui.kube import labels as L
from cortex_tui.kube.project import bundle_for
from cortex_tui.kube.render import RenderContext, render_project
from cortex_tui.types import ApiState, Status
from tests.helpers.examples import copy_example
from tests.helpers.fakekube.admission import restricted_violations
from tests.helpers.waiting import wait_until
from tests.kube.conftest import EXAMPLES, Cluster

Obj = dict[str, Any]


def _pods(root: Path, ctx: RenderContext) -> dict[str, Obj]:
    project = load_project(root)
    return {api.api: next(o for o in api.objects if o["kind"] == "Deployment")
            ["spec"]["template"]["spec"]
            for api in render_project(project, ctx, bundle_for(project))}


def test_each_runtime_gets_its_image_variant_and_gpus_their_cuda_one(tmp_path: Path) -> None:
    root = copy_example("iris-onnx", tmp_path, "p")
    shutil.copytree(EXAMPLES / "iris-tensorflow" / "models", root / "models", dirs_exist_ok=True)
    entries = [
        *yaml.safe_load((root / "cortex.yaml").read_text()),
        {"kind": "api", "name": "onnx-gpu", "onnx": {"model": "models/iris.onnx"},
         "compute": {"gpu": 1}},
        {"kind": "api", "name": "tf", "tensorflow": {"model": "models/iris-tf"}},
        {"kind": "api", "name": "tf-gpu", "tensorflow": {"model": "models/iris-tf"},
         "compute": {"gpu": 2}},
    ]
    (root / "cortex.yaml").write_text(yaml.safe_dump(entries))
    pods = _pods(root, RenderContext(namespace="c", image="reg/pred:2"))
    assert {api: pod["containers"][0]["image"] for api, pod in pods.items()} == {
        "iris-onnx": "reg/pred:2-onnx", "onnx-gpu": "reg/pred:2-onnx-gpu",
        "tf": "reg/pred:2-tensorflow", "tf-gpu": "reg/pred:2-tensorflow-gpu"}


def test_an_s3_model_is_fetched_by_an_init_container_into_the_pods_cache(
        tmp_path: Path) -> None:
    root = copy_example("iris-onnx", tmp_path, "p")
    text = (root / "cortex.yaml").read_text()
    (root / "cortex.yaml").write_text(
        text.replace("model: models/iris.onnx", "model: s3://shop-models/iris/3.onnx"))
    pod = _pods(root, RenderContext(namespace="c"))["iris-onnx"]
    fetch = pod["initContainers"][-1]
    assert fetch["name"] == "fetch-model"
    assert fetch["command"][-1] == "s3://shop-models/iris/3.onnx"
    assert fetch["image"] == pod["containers"][0]["image"]  # the predictor's own downloader
    main = pod["containers"][0]
    cache = {"name": "CORTEX_MODEL_CACHE", "value": "/models"}
    assert cache in fetch["env"] and cache in main["env"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in main["volumeMounts"]
    assert {"name": "models", "emptyDir": {}} in pod["volumes"]
    assert restricted_violations(pod) == []


def test_iris_onnx_goes_live_predicts_and_get_shows_its_signature(
        cluster: Cluster, tmp_path: Path) -> None:
    root = copy_example("iris-onnx", tmp_path)
    cluster.serve(root, "iris-onnx")
    cluster.backend.deploy(load_project(root))

    def live() -> ApiState | None:
        state = cluster.backend.get("iris-onnx")[0]
        return state if state.status is Status.LIVE and state.signature else None

    state = wait_until(live, cluster.timeout, "iris-onnx live with its signature")
    assert state.signature == {"input": {"shape": [None, 4], "type": "float32"}}
    sample = json.loads((root / "sample.json").read_text())
    answer = cluster.backend.predict("iris-onnx", sample)
    assert (answer.status, answer.body["label"]) == (200, "setosa")


def test_the_project_image_recipe_starts_from_the_runtime_variant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    root = copy_example("iris-onnx", tmp_path, "p")
    assert main(["render", "-p", str(root), "--dockerfile"]) == 0
    assert f"ARG BASE={L.DEFAULT_IMAGE}-onnx" in (root / "Dockerfile").read_text().splitlines()
    shutil.copytree(EXAMPLES / "iris-tensorflow" / "models", root / "models", dirs_exist_ok=True)
    with (root / "cortex.yaml").open("a") as config:
        config.write("- {kind: api, name: tf, tensorflow: {model: models/iris-tf}}\n")
    capsys.readouterr()
    assert main(["render", "-p", str(root), "--dockerfile"]) == 1
    assert "one project image holds one model runtime" in capsys.readouterr().err
