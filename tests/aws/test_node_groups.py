"""Node groups found by name and by tag; bounds changed, and refused when invalid."""

from __future__ import annotations

import boto3
import pytest

from cortex_tui.aws.clients import AwsError
from cortex_tui.aws.node_groups import (
    BoundsError,
    find_node_groups,
    select_group,
    set_bounds,
)
from tests.aws.conftest import REGION, aws_settings, make_group

CLUSTER_TAG = "k8s.io/cluster-autoscaler/demo"


def _groups(url: str) -> None:
    make_group(url, "workers-cpu", size=(1, 2, 4), tags={CLUSTER_TAG: "owned"})
    make_group(url, "workers-gpu", size=(0, 1, 3), instance_type="g4dn.xlarge",
               tags={CLUSTER_TAG: "owned", "team": "ml"})
    make_group(url, "unrelated", size=(1, 1, 1), tags={"team": "web"})


def test_groups_found_by_name_with_sizes_types_and_instances(aws_env: str) -> None:
    _groups(aws_env)
    groups = find_node_groups(aws_settings(aws_env, node_groups=("workers-gpu",)))
    assert [g.name for g in groups] == ["workers-gpu"]
    gpu = groups[0]
    assert (gpu.min_size, gpu.desired, gpu.max_size) == (0, 1, 3)
    assert gpu.instance_types == ("g4dn.xlarge",)
    assert len(gpu.instances) == 1
    assert gpu.instances[0].instance_id.startswith("i-")


def test_groups_found_by_tag_key_and_by_key_value(aws_env: str) -> None:
    _groups(aws_env)
    by_key = find_node_groups(aws_settings(aws_env, node_group_tag=CLUSTER_TAG))
    assert [g.name for g in by_key] == ["workers-cpu", "workers-gpu"]
    by_value = find_node_groups(aws_settings(aws_env, node_group_tag="team=ml"))
    assert [g.name for g in by_value] == ["workers-gpu"]


def test_unknown_group_name_is_an_error_naming_it(aws_env: str) -> None:
    _groups(aws_env)
    with pytest.raises(AwsError, match="not found in region us-east-1: workres-cpu"):
        find_node_groups(aws_settings(aws_env, node_groups=("workers-gpu", "workres-cpu")))


def test_bounds_changed_in_aws(aws_env: str) -> None:
    _groups(aws_env)
    aws = aws_settings(aws_env, node_group_tag=CLUSTER_TAG)
    group = select_group(find_node_groups(aws), "workers-cpu")
    changed = set_bounds(aws, group, 2, 10)
    assert (changed.min_size, changed.desired, changed.max_size) == (2, 2, 10)
    raw = boto3.client("autoscaling", region_name=REGION, endpoint_url=aws_env)
    seen = raw.describe_auto_scaling_groups(AutoScalingGroupNames=["workers-cpu"])
    assert seen["AutoScalingGroups"][0]["MaxSize"] == 10


def test_desired_is_kept_inside_new_bounds(aws_env: str) -> None:
    make_group(aws_env, "workers", size=(1, 3, 5))
    aws = aws_settings(aws_env, node_groups=("workers",))
    group = find_node_groups(aws)[0]
    lowered = set_bounds(aws, group, 0, 2)
    assert (lowered.min_size, lowered.desired, lowered.max_size) == (0, 2, 2)
    raised = set_bounds(aws, lowered, 4, 6)
    assert (raised.min_size, raised.desired, raised.max_size) == (4, 4, 6)


def test_invalid_bounds_refused_and_nothing_changed(aws_env: str) -> None:
    make_group(aws_env, "workers", size=(1, 2, 5))
    aws = aws_settings(aws_env, node_groups=("workers",))
    group = find_node_groups(aws)[0]
    for low, high, message in [
        (5, 2, r"min_instances \(5\) must be less than or equal to max_instances \(2\)"),
        (-1, 2, r"min_instances must be 0 or more \(got -1\)"),
        (None, 0, r"min_instances \(1\) must be less than or equal to max_instances \(0\)"),
        (1, 2.5, r"max_instances must be an integer \(got 2\.5\)"),
    ]:
        with pytest.raises(BoundsError, match=message):
            set_bounds(aws, group, low, high)  # type: ignore[arg-type]
    again = find_node_groups(aws)[0]
    assert (again.min_size, again.desired, again.max_size) == (1, 2, 5)


def test_aws_error_shown_plainly(aws_env: str) -> None:
    make_group(aws_env, "workers")
    aws = aws_settings(aws_env, node_groups=("workers",))
    group = find_node_groups(aws)[0]
    boto3.client("autoscaling", region_name=REGION, endpoint_url=aws_env).delete_auto_scaling_group(
        AutoScalingGroupName="workers", ForceDelete=True
    )
    with pytest.raises(AwsError) as caught:
        set_bounds(aws, group, 1, 3)
    assert str(caught.value).startswith("AWS UpdateAutoScalingGroup workers: ValidationError: ")
    assert "not found" in str(caught.value)


def test_unreachable_endpoint_is_a_plain_error(aws_env: str) -> None:
    aws = aws_settings("http://127.0.0.1:9", node_groups=("workers",))
    with pytest.raises(AwsError, match=r"cannot reach http://127\.0\.0\.1:9"):
        find_node_groups(aws)


def test_several_groups_need_a_name(aws_env: str) -> None:
    _groups(aws_env)
    groups = find_node_groups(aws_settings(aws_env, node_group_tag=CLUSTER_TAG))
    with pytest.raises(AwsError, match="name the one to change: workers-cpu, workers-gpu"):
        select_group(groups, None)
    with pytest.raises(AwsError, match="no node group 'nope'"):
        select_group(groups, "nope")


def test_a_tag_no_group_carries_finds_nothing_to_change(aws_env: str) -> None:
    _groups(aws_env)
    groups = find_node_groups(aws_settings(aws_env, node_group_tag="k8s.io/typo"))
    assert groups == []
    with pytest.raises(AwsError, match="no node groups found for this environment"):
        select_group(groups, None)
