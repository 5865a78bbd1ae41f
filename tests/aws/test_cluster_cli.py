"""`cortex-tui cluster scale` end to end against moto (the AWS half; no cluster needed)."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from cortex_tui.cli import main
from tests.aws.conftest import REGION, make_group, write_settings


@pytest.fixture
def prod(aws_env: str) -> str:
    write_settings(
        Path(os.environ["CORTEX_TUI_HOME"]), "prod",
        {"region": REGION, "endpoint_url": aws_env, "node_group_tag": "cluster=prod"},
    )
    make_group(aws_env, "prod-cpu", size=(1, 2, 4), tags={"cluster": "prod"})
    make_group(aws_env, "prod-gpu", size=(0, 0, 2), tags={"cluster": "prod"})
    return aws_env


def _bounds(url: str, name: str) -> tuple[int, int, int]:
    client = boto3.client("autoscaling", region_name=REGION, endpoint_url=url)
    group = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return group[0]["MinSize"], group[0]["DesiredCapacity"], group[0]["MaxSize"]


def test_scale_changes_the_named_group(prod: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["cluster", "scale", "prod-gpu", "--min-instances", "1", "--max-instances", "6",
                 "-e", "prod"])
    assert code == 0
    assert capsys.readouterr().out.strip() == "node group prod-gpu: desired 1, min 1, max 6"
    assert _bounds(prod, "prod-gpu") == (1, 1, 6)
    assert _bounds(prod, "prod-cpu") == (1, 2, 4)


def test_scale_refuses_min_above_max_plainly(prod: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["cluster", "scale", "prod-cpu", "--min-instances", "5", "--max-instances", "3",
                 "-e", "prod"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: min_instances (5) must be less than or equal to max_instances (3)"
    )
    assert _bounds(prod, "prod-cpu") == (1, 2, 4)


def test_scale_without_group_among_several_lists_them(
    prod: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cluster", "scale", "--max-instances", "3", "-e", "prod"]) == 1
    assert "name the one to change: prod-cpu, prod-gpu" in capsys.readouterr().err


def test_scale_needs_aws_settings(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(Path(os.environ["CORTEX_TUI_HOME"]), "bare", {})
    home = Path(os.environ["CORTEX_TUI_HOME"]) / "settings.yaml"
    home.write_text('{"environments": {"bare": {"context": "bare"}}}', encoding="utf-8")
    assert main(["cluster", "scale", "--max-instances", "3", "-e", "bare"]) == 1
    assert 'environment "bare" has no `aws` settings' in capsys.readouterr().err


def test_cluster_commands_refuse_the_local_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "info"]) == 1
    assert 'environment "local" is not a Kubernetes environment' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("aws", "message"),
    [
        ({"node_groups": 5}, "environments.prod.aws.node_groups: must be a list of Auto Scaling"),
        ({"region": ["us-east-1"]}, "environments.prod.aws.region: must be a non-empty string"),
    ],
)
def test_wrong_aws_settings_are_named_plainly(
    aws_env: str, aws: dict[str, object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_settings(Path(os.environ["CORTEX_TUI_HOME"]), "prod", aws)
    assert main(["cluster", "info", "-e", "prod"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
