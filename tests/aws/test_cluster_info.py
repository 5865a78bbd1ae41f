"""`cortex-tui cluster info`: node groups from AWS (moto) joined with the nodes and the pods
with no room of a Kubernetes API (the shared fake), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cortex_tui.cli import main
from cortex_tui.cluster import ClusterService
from tests.aws.kube_cluster import add_big_pod, aws_cluster
from tests.helpers.fakekube import FakeKube


@pytest.fixture
def cluster(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    home = Path(os.environ["CORTEX_TUI_HOME"])
    with aws_cluster(aws_env, home, tmp_path / "kubeconfig", monkeypatch) as fake:
        yield fake


def test_info_joins_groups_nodes_and_pending_pods(
    cluster: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    add_big_pod(cluster, "iris-classifier-abc", "iris-classifier", cpu="64")
    cluster.wait_for(lambda: ClusterService("prod").info().pending, message="pod unschedulable")
    assert main(["cluster", "info", "-e", "prod", "-o", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    groups = {g["name"]: g for g in info["node_groups"]}
    assert groups["prod-cpu"]["instance_types"] == ["m5.large"]
    assert (groups["prod-cpu"]["desired"], groups["prod-cpu"]["min_instances"],
            groups["prod-cpu"]["max_instances"]) == (2, 1, 4)
    assert groups["prod-cpu"]["nodes"] == ["ip-10-0-1-1", "ip-10-0-1-2"]
    assert groups["prod-gpu"]["nodes"] == ["ip-10-0-2-1"]
    nodes = {n["name"]: n for n in info["nodes"]}
    assert nodes["ip-10-0-2-1"]["gpu"] == 1 and nodes["ip-10-0-2-1"]["group"] == "prod-gpu"
    assert nodes["ip-10-0-1-1"]["cpu"] == 2.0 and nodes["ip-10-0-1-1"]["memory"] == 8 * 1024**3
    assert nodes["control-plane"]["group"] is None
    [pending] = info["pending_pods"]
    assert (pending["name"], pending["api"], pending["cpu"]) == (
        "iris-classifier-abc", "iris-classifier", 64.0
    )
    assert "Insufficient cpu" in pending["message"]


def test_info_table_is_readable(cluster: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "info", "-e", "prod"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "environment prod (region us-east-1)"
    row = next(line for line in lines if line.startswith("prod-gpu"))
    assert row.split() == ["prod-gpu", "g4dn.xlarge", "1", "0", "2", "1", "1"]
    assert "4 nodes: 9 cpu, 34.0Gi memory, 1 gpu allocatable" in out
    assert "no pods pending for lack of room" in out


def test_scale_then_info_shows_new_bounds(
    cluster: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cluster", "scale", "prod-cpu", "--min-instances", "3", "--max-instances",
                 "8", "-e", "prod"]) == 0
    capsys.readouterr()
    assert main(["cluster", "info", "-e", "prod", "-o", "json"]) == 0
    groups = {g["name"]: g for g in json.loads(capsys.readouterr().out)["node_groups"]}
    assert (groups["prod-cpu"]["desired"], groups["prod-cpu"]["min_instances"],
            groups["prod-cpu"]["max_instances"]) == (3, 3, 8)


def test_unreachable_cluster_is_a_plain_error(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = Path(os.environ["CORTEX_TUI_HOME"])
    with aws_cluster(aws_env, home, tmp_path / "kubeconfig", monkeypatch):
        pass  # the fake is stopped: its port is closed
    assert main(["cluster", "info", "-e", "prod"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: environment prod: cannot reach the cluster at http://127.0.0.1:")
    assert err.rstrip().endswith(": connection refused")
    assert "Traceback" not in err


def test_info_without_node_group_settings_still_lists_nodes(
    cluster: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Path(os.environ["CORTEX_TUI_HOME"]) / "settings.yaml"
    settings.write_text(json.dumps({"environments": {"prod": {
        "context": "prod-eks", "aws": {"region": "us-east-1", "cloudwatch_namespace": "cortex"},
    }}}), encoding="utf-8")
    assert main(["cluster", "info", "-e", "prod"]) == 0
    out = capsys.readouterr().out
    assert "note: node groups unknown: the environment's `aws` settings name no" in out
    assert "4 nodes: 9 cpu" in out


def test_what_rbac_forbids_becomes_a_note(
    cluster: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.forbidden.update({"nodes", "pods"})
    assert main(["cluster", "info", "-e", "prod", "-o", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["notes"] == [
        "not allowed to list nodes (RBAC): not shown",
        "not allowed to list pods in namespace cortex (RBAC): not shown",
    ]
    assert [g["name"] for g in info["node_groups"]] == ["prod-cpu", "prod-gpu"]
    assert info["nodes"] is None and info["pending_pods"] is None  # unknown, not none

    assert main(["cluster", "info", "-e", "prod"]) == 0
    table = capsys.readouterr().out
    assert "note: not allowed to list nodes (RBAC): not shown" in table
    assert "no nodes" not in table and "no pods pending" not in table


def test_a_node_group_tag_that_matches_nothing_is_a_note(
    cluster: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Path(os.environ["CORTEX_TUI_HOME"]) / "settings.yaml"
    body = json.loads(settings.read_text())
    body["environments"]["prod"]["aws"]["node_group_tag"] = "k8s.io/cluster-autoscaler/typo"
    settings.write_text(json.dumps(body), encoding="utf-8")
    assert main(["cluster", "info", "-e", "prod"]) == 0
    out = capsys.readouterr().out
    assert ("note: no Auto Scaling group in region us-east-1 has the tag "
            "'k8s.io/cluster-autoscaler/typo' (`aws.node_group_tag`)") in out
    assert main(["cluster", "scale", "--min-instances", "1", "-e", "prod"]) == 1
    assert "error: no node groups found for this environment" in capsys.readouterr().err
