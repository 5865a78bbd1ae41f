"""The onnx runtime on the local target, as a user runs it: deploy, predict, get API."""

from __future__ import annotations

import json
from pathlib import Path

from cortex_tui.config import load_project
from tests.helpers.examples import copy_example
from tests.local.conftest import Local

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-onnx"


def test_iris_onnx_deploys_predicts_and_get_shows_its_signature(
        local: Local, tmp_path: Path) -> None:
    root = copy_example(EXAMPLE.name, tmp_path, "iris-onnx")
    local.backend.deploy(load_project(root))
    local.wait_status("iris-onnx", "live", available=1, timeout=60)
    sample = json.loads((root / "sample.json").read_text())
    assert local.backend.predict("iris-onnx", sample).body["label"] == "setosa"
    shown = local.cli("get", "iris-onnx")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split() for line in shown.stdout.splitlines()]
    at = rows.index(["input", "shape", "type"])
    assert rows[at + 1] == ["input", "[?,", "4]", "float32"]
    assert "setosa" in shown.stdout  # the tracker, after post_inference
    state = json.loads(local.cli("get", "iris-onnx", "-o", "json").stdout)
    assert state["signature"] == {"input": {"shape": [None, 4], "type": "float32"}}
