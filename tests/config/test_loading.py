"""Loading valid projects: every default filled, the typed model, and how paths are taken."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from cortex_tui.config import (
    ConfigError,
    default_deployment_name,
    load_project,
    validate_project,
    validate_text,
)
from cortex_tui.config.model import Batching, Compute, Tracker
from tests.config.cases import BASE, api

MakeProject = Callable[..., Path]


def test_every_default_is_filled(make_project: MakeProject) -> None:
    project = load_project(make_project(BASE))
    spec = project.api("classifier")
    assert spec.compute == Compute(
        min_replicas=1, max_replicas=100, init_replicas=1, target_cpu_utilization=80,
        cpu=Decimal("0.2"), gpu=0, mem=None, threads_per_replica=1, queue_size=128,
        max_body_size=10 * 1024 * 1024,
    )
    assert spec.tracker is None
    assert dict(spec.metadata) == {}
    assert spec.line == 1
    assert spec.to_dict()["compute"]["cpu"] == "200m"


def test_init_replicas_defaults_to_min_replicas(make_project: MakeProject) -> None:
    text = api("  compute:\n    min_replicas: 3\n    max_replicas: 7\n")
    compute = load_project(make_project(text)).api("classifier").compute
    assert (compute.min_replicas, compute.init_replicas, compute.max_replicas) == (3, 3, 7)


def test_server_side_batching_is_read_in_seconds(make_project: MakeProject) -> None:
    text = BASE + ("    server_side_batching:\n      max_batch_size: 32\n"
                   "      batch_interval: 2.5ms\n")
    batched = {"inference.py": "def predict(samples, metadata):\n    return samples\n"}
    spec = load_project(make_project(text, batched)).api("classifier")
    assert spec.batching == Batching(max_batch_size=32, batch_interval=0.0025)
    assert spec.to_dict()["python"] == {
        "inference": "inference.py",
        "server_side_batching": {"max_batch_size": 32, "batch_interval": "2.5ms"},
    }
    assert load_project(make_project(BASE, name="one")).api("classifier").batching is None


def test_every_field_set(make_project: MakeProject) -> None:
    text = api(
        "  tracker:\n    model_type: classification\n    key: label\n"
        "  compute:\n    min_replicas: 2\n    init_replicas: 3\n    max_replicas: 5\n"
        "    target_cpu_utilization: 60\n    cpu: 1.5\n    gpu: 1\n    mem: 1.5Gi\n"
        "    threads_per_replica: 4\n    queue_size: 0\n    max_body_size: 1Mi\n"
        "  metadata:\n    labels: [a, b]\n    nested: {x: 1}\n"
    )
    spec = load_project(make_project(text)).api("classifier")
    assert spec.tracker == Tracker("classification", "label")
    assert spec.compute == Compute(2, 5, 3, 60, Decimal("1.5"), 1, 3 * 2**29, 4, 0, 2**20)
    assert spec.to_dict()["metadata"] == {"labels": ["a", "b"], "nested": {"x": 1}}


def test_metadata_is_deeply_frozen(make_project: MakeProject) -> None:
    text = api("  metadata:\n    labels: [a, b]\n    nested: {x: 1}\n")
    metadata = load_project(make_project(text)).api("classifier").metadata
    assert metadata["labels"] == ("a", "b")
    with pytest.raises(TypeError):
        metadata["nested"]["x"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        metadata["new"] = 1  # type: ignore[index]


def test_anchors_and_merge_keys_share_settings(make_project: MakeProject) -> None:
    text = (
        "- kind: api\n  name: first\n  python: {inference: inference.py}\n"
        "  compute: &shared {cpu: 1, mem: 1Gi}\n"
        "- kind: api\n  name: second\n  python: {inference: inference.py}\n"
        "  compute: {<<: *shared, cpu: 2}\n"
    )
    project = load_project(make_project(text))
    assert project.api("first").compute.cpu == Decimal(1)
    assert project.api("second").compute.cpu == Decimal(2)
    assert project.api("second").compute.mem == 2**30
    assert project.api_names == ("first", "second")
    assert project.api("second").line == 5


def test_inference_path_is_normalised(make_project: MakeProject) -> None:
    text = BASE.replace("inference.py", "./src/../src/model.py")
    files = {"src/model.py": "def predict(sample, metadata):\n    return 1\n"}
    assert load_project(make_project(text, files)).api("classifier").inference == "src/model.py"


def test_symlink_out_of_the_project_is_rejected(make_project: MakeProject,
                                                tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def predict(sample, metadata):\n    return 1\n")
    root = make_project(BASE.replace("inference.py", "link.py"))
    os.symlink(outside, root / "link.py")
    _, problems = validate_project(root)
    assert [(p.line, p.column, p.path) for p in problems] == [(4, 16, "python.inference")]
    assert "outside the project folder" in problems[0].message


def test_symlink_inside_the_project_is_fine(make_project: MakeProject) -> None:
    root = make_project(BASE.replace("inference.py", "link.py"))
    os.symlink(root / "inference.py", root / "link.py")
    assert load_project(root).api("classifier").inference == "link.py"


def test_deployment_name_given_or_from_the_folder(make_project: MakeProject) -> None:
    root = make_project(BASE, name="My Project_2")
    assert load_project(root).deployment_name == "my-project-2"
    named = make_project(BASE + "- kind: deployment\n  name: shop\n", name="other")
    assert load_project(named).deployment_name == "shop"


@pytest.mark.parametrize(("folder", "name"), [
    ("iris", "iris"), ("Iris Demo", "iris-demo"), ("__x__", "x"), ("---", "cortex"),
    ("a" * 80, "a" * 63), ("été", "t"), ("v1.2", "v1-2"),
])
def test_default_deployment_name(tmp_path: Path, folder: str, name: str) -> None:
    root = tmp_path / folder
    root.mkdir()
    assert default_deployment_name(root) == name


def test_load_project_raises_with_every_problem(make_project: MakeProject) -> None:
    text = api("  compute:\n    min_replicas: 0\n    gpu: -1\n  tracker: {model_type: x}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(make_project(text))
    lines = str(caught.value).splitlines()
    assert [p.path for p in caught.value.problems] == [
        "compute.min_replicas", "compute.gpu", "tracker.model_type",
    ]
    assert lines[0] == (
        'cortex.yaml:6:19: api "classifier": compute.min_replicas: '
        "must be greater than 0 (got 0); 0 (scale to zero) needs autoscale_on: in_flight"
    )


def test_the_spec_example_line(make_project: MakeProject) -> None:
    text = api("  tracker:\n    model_type: regression\n" + "  # padding\n" * 6
               + "  compute:\n     min_replicas: 0\n")
    _, problems = validate_project(make_project(text))
    assert [str(p) for p in problems] == [
        'cortex.yaml:14:20: api "classifier": compute.min_replicas: '
        "must be greater than 0 (got 0); 0 (scale to zero) needs autoscale_on: in_flight"
    ]


def test_load_project_accepts_the_yaml_file_path(make_project: MakeProject) -> None:
    root = make_project(BASE)
    assert load_project(root / "cortex.yaml").root == root
    assert load_project(str(root)).config_file == root / "cortex.yaml"


def test_missing_project(tmp_path: Path) -> None:
    project, problems = validate_project(tmp_path / "nowhere")
    assert project is None
    assert "folder not found" in problems[0].message
    _, problems = validate_project(tmp_path)
    assert "file not found" in problems[0].message
    assert problems[0].file.endswith("cortex.yaml")


def test_not_utf8_points_at_the_byte(tmp_path: Path) -> None:
    (tmp_path / "cortex.yaml").write_bytes(b"- kind: api\n  name: \xff\xfe\n")
    _, problems = validate_project(tmp_path)
    assert [(p.line, p.column) for p in problems] == [(2, 9)]
    assert "not a UTF-8 text file" in problems[0].message


def test_utf16_is_named(tmp_path: Path) -> None:
    (tmp_path / "cortex.yaml").write_bytes(BASE.encode("utf-16"))  # with its byte order mark
    _, problems = validate_project(tmp_path)
    assert [(p.line, p.column, p.message) for p in problems] == [
        (1, 1, "is UTF-16 text: save it as UTF-8"),
    ]


def test_validate_text_reads_unsaved_text_against_the_folder(make_project: MakeProject) -> None:
    root = make_project("this file on disk is broken: [")
    project, problems = validate_text(BASE, root)
    assert problems == [] and project is not None
    assert project.root == root
    _, problems = validate_text(BASE.replace("inference.py", "gone.py"), root, "edited.yaml")
    assert [(p.file, p.line, p.column) for p in problems] == [("edited.yaml", 4, 16)]


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "inference.py").write_text("def predict(sample, metadata):\n    return 1\n")
    (tmp_path / "cortex.yaml").write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_project(tmp_path).api_names == ("classifier",)


def test_unusable_paths_are_problems(tmp_path: Path) -> None:
    _, problems = validate_project(str(tmp_path) + "/a\x00b")
    assert "cannot be read" in problems[0].message
    (tmp_path / "dir.yaml").mkdir()
    _, problems = validate_project(tmp_path / "dir.yaml")
    assert "file not found" in problems[0].message


def test_project_root_is_absolute(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(BASE)
    monkeypatch.chdir(root)
    project = load_project(".")
    assert project.root == root and project.root.is_absolute()
    assert project.config_file == root / "cortex.yaml"


def test_a_huge_file_is_refused_quickly(make_project: MakeProject) -> None:
    text = BASE + "  metadata:\n    blob: " + "x" * (5 * 1024 * 1024) + "\n"
    _, problems = validate_project(make_project(text))
    assert [(p.line, p.column) for p in problems] == [(1, 1)]
    assert problems[0].message.startswith("too large")


def test_a_folder_named_cortex_yaml(tmp_path: Path) -> None:
    (tmp_path / "cortex.yaml").mkdir()
    _, problems = validate_project(tmp_path)
    assert [(p.file, p.line, p.column, p.message) for p in problems] == [
        (str(tmp_path / "cortex.yaml"), 1, 1, "is a folder, not a file"),
    ]


def test_a_pipe_or_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "cortex.yaml")  # reading it would block forever: no writer
    device = tmp_path / "device"
    device.mkdir()
    os.symlink("/dev/zero", device / "cortex.yaml")  # reading it would never end
    for root in (fifo, device):
        _, problems = validate_project(root)
        assert [p.message for p in problems] == [
            "is not a regular file (a pipe, socket or device)"
        ]


def test_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "cortex.yaml").open("wb") as handle:
        handle.truncate(1 << 40)  # sparse: a terabyte that takes no room
    _, problems = validate_project(tmp_path)
    assert [(p.line, p.column) for p in problems] == [(1, 1)]
    assert problems[0].message == (
        f"too large: {1 << 40} bytes (a cortex.yaml holds settings, not data)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    config = tmp_path / "cortex.yaml"
    config.write_text(BASE)
    config.chmod(0)
    _, problems = validate_project(tmp_path)
    assert [p.message for p in problems] == ["cannot be read: permission denied"]


def test_too_many_values_stop_the_parser_early(make_project: MakeProject) -> None:
    # 60 000 list items then a syntax error at the end: parsing stops at the limit (PyYAML
    # takes seconds per hundred thousand values) and never reaches the error.
    text = api("  metadata:\n    items: [" + "1, " * 60_000 + "1]]\n")
    _, problems = validate_project(make_project(text))
    assert [(p.line, p.column, p.path) for p in problems] == [(1, 1, "")]
    assert problems[0].message.startswith("too large: more than 50000 values")


def test_an_inference_file_that_is_not_utf8(make_project: MakeProject) -> None:
    root = make_project(BASE)
    (root / "inference.py").write_bytes(
        b'def predict(sample, metadata):\n    return "caf\xe9"\n'
    )
    _, problems = validate_project(root)
    assert [(p.file, p.line, p.column) for p in problems] == [("inference.py", 2, 16)]
    assert problems[0].message.startswith("not UTF-8 text (byte 0xe9): save the file as UTF-8")
    # With a coding declaration Python reads it, and so does validation.
    (root / "inference.py").write_bytes(b"# -*- coding: latin-1 -*-\n" + b'x = "caf\xe9"\n'
                                        b"def predict(sample, metadata):\n    return x\n")
    assert validate_project(root)[1] == []


def test_an_inference_file_that_is_a_pipe_or_too_large(make_project: MakeProject) -> None:
    root = make_project(BASE.replace("inference.py", "pipe.py") + named_api("big", "big.py"))
    os.mkfifo(root / "pipe.py")
    with (root / "big.py").open("wb") as handle:
        handle.truncate(1 << 40)
    _, problems = validate_project(root)
    assert [(p.api, p.line, p.column, p.path) for p in problems] == [
        ("classifier", 4, 16, "python.inference"), ("big", 8, 16, "python.inference"),
    ]
    assert problems[0].message == 'must be a regular file, not a pipe or device (got "pipe.py")'
    assert problems[1].message.startswith("is too large to be an inference file")


def named_api(name: str, inference: str) -> str:
    return BASE.replace("classifier", name).replace("inference.py", inference)


def test_metadata_dates_stay_the_text_written(make_project: MakeProject) -> None:
    # Metadata goes to the operator as JSON and to pods as YAML: a date object broke the first.
    text = api("  metadata:\n    release: 2024-01-01\n    at: 2024-01-01 10:00:00\n"
               "    2024-02-02: key\n")
    spec = load_project(make_project(text)).api("classifier")
    assert dict(spec.metadata) == {
        "release": "2024-01-01", "at": "2024-01-01 10:00:00", "2024-02-02": "key",
    }
    json.dumps(spec.to_dict(), allow_nan=False)
