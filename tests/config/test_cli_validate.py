"""`cortex-tui validate` as a user runs it: a real subprocess on the examples and broken copies."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.config.conftest import EXAMPLES, REPO


def validate(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cortex_tui", "validate", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )


def test_examples_are_valid_with_a_summary_line() -> None:
    iris = validate("-p", str(EXAMPLES / "iris"))
    assert iris.returncode == 0, iris.stderr
    assert iris.stdout.splitlines() == [
        "iris-classifier  replicas 1/1/4 (min/init/max)  cpu 200m  mem 128Mi  gpu 0  "
        "tracker classification[label]"
    ]
    housing = validate("-p", str(EXAMPLES / "housing" / "cortex.yaml"))
    assert housing.returncode == 0, housing.stderr
    assert housing.stdout.startswith("housing-regressor  replicas 1/2/3 (min/init/max)  cpu 250m")
    assert housing.stdout.rstrip().endswith("tracker regression")


def test_current_folder_is_the_default_project() -> None:
    result = validate(cwd=EXAMPLES / "iris")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("iris-classifier")


def test_json_of_a_valid_project_has_every_default() -> None:
    result = validate("-p", str(EXAMPLES / "housing"), "-o", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["valid"] is True and document["errors"] == []
    [housing] = document["apis"]
    assert housing["name"] == "housing-regressor"
    assert housing["compute"] == {
        "min_replicas": 1, "max_replicas": 3, "init_replicas": 2, "target_cpu_utilization": 80,
        "cpu": "250m", "gpu": 0, "mem": 64 * 2**20, "threads_per_replica": 1,
        "queue_size": 128, "max_body_size": 4 * 2**20,  # 10Mi, but at most mem / 16
        "max_concurrency": None,  # by predict: 64 when async, else threads_per_replica
        "autoscale_on": "cpu", "target_in_flight": 1.0, "window": 60.0,
        "upscale_stabilization": 0.0, "downscale_stabilization": 300.0,
        "max_upscale_factor": 1.5, "max_downscale_factor": 0.75,
        "upscale_tolerance": 0.05, "downscale_tolerance": 0.05, "scale_to_zero_after": 300.0,
    }
    assert housing["tracker"] == {"model_type": "regression", "key": None}
    assert housing["metadata"] == {"data_file": "housing.csv", "currency": "kEUR"}


def _break_iris(example_copy: Callable[[str], Path]) -> Path:
    root = example_copy("iris")
    config = root / "cortex.yaml"
    text = config.read_text()
    text = text.replace("min_replicas: 1", "min_replicas: 0")
    text = text.replace("model_type: classification", "model_type: foo")
    config.write_text(text)
    (root / "inference.py").write_text("def predict(sample):\n    return 1\n")
    return root


def test_broken_copy_lists_every_problem_on_stderr(example_copy: Callable[[str], Path]) -> None:
    root = _break_iris(example_copy)
    result = validate("-p", str(root))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith('cortex.yaml:9:17: api "iris-classifier": tracker.model_type: ')
    assert lines[1] == ('cortex.yaml:12:19: api "iris-classifier": compute.min_replicas: '
                        "must be greater than 0 (got 0); 0 (scale to zero) needs "
                        "autoscale_on: in_flight")
    assert lines[2].startswith('inference.py:1:1: api "iris-classifier": must be defined as')
    assert lines[3] == "3 problems found"
    assert "Traceback" not in result.stderr


def test_broken_copy_as_json(example_copy: Callable[[str], Path]) -> None:
    root = _break_iris(example_copy)
    result = validate("-p", str(root), "-o", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False and document["apis"] == []
    assert document["errors"][1] == {
        "file": "cortex.yaml", "line": 12, "column": 19, "api": "iris-classifier",
        "path": "compute.min_replicas",
        "message": "must be greater than 0 (got 0); 0 (scale to zero) needs "
                   "autoscale_on: in_flight",
    }
    assert [e["file"] for e in document["errors"]] == ["cortex.yaml", "cortex.yaml", "inference.py"]


def test_garbage_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "cortex.yaml").write_bytes(b"- kind: api\n  name: x\x00\x01\n")
    result = validate("-p", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("cortex.yaml:2:10: YAML syntax error")
    assert "Traceback" not in result.stderr


def test_missing_folder_exits_1(tmp_path: Path) -> None:
    result = validate("-p", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "folder not found" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert validate("-o", "xml").returncode == 2
    assert validate("--frobnicate").returncode == 2
    assert validate("extra-argument").returncode == 2


def test_python_warnings_in_the_inference_file_stay_quiet(tmp_path: Path) -> None:
    (tmp_path / "cortex.yaml").write_text(
        "- kind: api\n  name: a\n  python:\n    inference: inference.py\n"
    )
    (tmp_path / "inference.py").write_text(
        'PATTERN = "\\d+"\nx = 1if 1 else 0\ndef predict(sample, metadata):\n    return 1\n'
    )
    result = validate("-p", str(tmp_path))
    assert result.returncode == 0
    assert result.stderr == ""


def test_json_output_is_strict_json(tmp_path: Path) -> None:
    # YAML's .nan and .inf are floats Python's json writes bare (NaN), which is not JSON.
    (tmp_path / "cortex.yaml").write_text(
        "- kind: api\n  name: a\n  python: {inference: inference.py}\n"
        "  metadata:\n    limits: [.nan, .inf, -.inf, 1.5]\n"
    )
    (tmp_path / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    result = validate("-p", str(tmp_path), "-o", "json")
    assert result.returncode == 0, result.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    document = json.loads(result.stdout, parse_constant=refuse)
    assert document["apis"][0]["metadata"] == {
        "limits": ["NaN", "Infinity", "-Infinity", 1.5],
    }


def test_summary_lines_of_several_apis_line_up(tmp_path: Path) -> None:
    entry = "- kind: api\n  name: {}\n  python: {{inference: inference.py}}\n"
    (tmp_path / "cortex.yaml").write_text(entry.format("a") + entry.format("long-name"))
    (tmp_path / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    result = validate("-p", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [line.index("replicas") for line in result.stdout.splitlines()] == [11, 11]
