"""Node groups: the Auto Scaling groups whose instances are the cluster's nodes.

Found by name (`aws.node_groups`) and/or by tag (`aws.node_group_tag`, `key` or `key=value`).
Bounds change with UpdateAutoScalingGroup after the same checks the console makes, keeping the
desired capacity inside the new bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cortex_tui.aws.clients import AwsError, aws_client, aws_errors
from cortex_tui.settings import AwsSettings


@dataclass(frozen=True)
class GroupInstance:
    instance_id: str
    instance_type: str | None
    availability_zone: str
    lifecycle_state: str  # InService, Pending, Terminating, ...
    health: str  # Healthy / Unhealthy


@dataclass(frozen=True)
class NodeGroup:
    name: str
    instance_types: tuple[str, ...]
    desired: int
    min_size: int
    max_size: int
    instances: tuple[GroupInstance, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class BoundsError(AwsError):
    """Requested bounds break a rule; nothing was sent to AWS."""


def find_node_groups(aws: AwsSettings) -> list[NodeGroup]:
    """The environment's node groups, sorted by name; a configured name that AWS does not
    know is an error (a typo must not look like an empty cluster)."""
    if not aws.node_groups and not aws.node_group_tag:
        raise AwsError(
            "the environment's aws settings name no node groups: set `aws.node_groups` "
            "(Auto Scaling group names) or `aws.node_group_tag` in settings.yaml"
        )
    client = aws_client("autoscaling", aws)
    raw: dict[str, dict[str, Any]] = {}
    if aws.node_groups:
        for group in _describe(client, AutoScalingGroupNames=list(aws.node_groups)):
            raw[group["AutoScalingGroupName"]] = group
        missing = [name for name in aws.node_groups if name not in raw]
        if missing:
            where = f" in region {client.meta.region_name}"
            raise AwsError(f"node group(s) not found{where}: {', '.join(missing)}")
    if aws.node_group_tag:
        for group in _describe(client, Filters=[_tag_filter(aws.node_group_tag)]):
            raw[group["AutoScalingGroupName"]] = group
    resolver = _InstanceTypes(aws, client)
    return [_node_group(raw[name], resolver) for name in sorted(raw)]


def select_group(groups: list[NodeGroup], name: str | None) -> NodeGroup:
    """The group named `name`, or the only group; an error lists the choices otherwise."""
    if not groups:
        raise AwsError("no node groups found for this environment (`aws.node_group_tag` "
                       "matches no Auto Scaling group): nothing to change")
    names = ", ".join(g.name for g in groups)
    if name is None:
        if len(groups) == 1:
            return groups[0]
        raise AwsError(f"several node groups, name the one to change: {names}")
    for group in groups:
        if group.name == name:
            return group
    raise AwsError(f"no node group {name!r} in this environment (node groups: {names})")


def check_bounds(
    group: NodeGroup, min_size: int | None, max_size: int | None
) -> tuple[int, int, int]:
    """(min, max, desired) after the change, or BoundsError naming the rule broken."""
    new_min = group.min_size if min_size is None else min_size
    new_max = group.max_size if max_size is None else max_size
    for key, value in (("min_instances", new_min), ("max_instances", new_max)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BoundsError(f"{key} must be an integer (got {value!r})")
        if value < 0:
            raise BoundsError(f"{key} must be 0 or more (got {value})")
    if new_min > new_max:
        raise BoundsError(
            f"min_instances ({new_min}) must be less than or equal to max_instances ({new_max})"
        )
    return new_min, new_max, min(max(group.desired, new_min), new_max)


def set_bounds(
    aws: AwsSettings, group: NodeGroup, min_size: int | None, max_size: int | None
) -> NodeGroup:
    """Change the group's min / max (desired dragged inside them); returns the group as AWS
    now reports it."""
    new_min, new_max, desired = check_bounds(group, min_size, max_size)
    client = aws_client("autoscaling", aws)
    with aws_errors(f"UpdateAutoScalingGroup {group.name}"):
        client.update_auto_scaling_group(
            AutoScalingGroupName=group.name,
            MinSize=new_min,
            MaxSize=new_max,
            DesiredCapacity=desired,
        )
    found = _describe(client, AutoScalingGroupNames=[group.name])
    if not found:
        raise AwsError(f"node group {group.name!r} disappeared after the update")
    return _node_group(found[0], _InstanceTypes(aws, client))


def _describe(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    with aws_errors("DescribeAutoScalingGroups"):
        pages = client.get_paginator("describe_auto_scaling_groups").paginate(**kwargs)
        return [group for page in pages for group in page["AutoScalingGroups"]]


def _tag_filter(tag: str) -> dict[str, Any]:
    key, sep, value = tag.partition("=")
    if sep:
        return {"Name": f"tag:{key}", "Values": [value]}
    return {"Name": "tag-key", "Values": [key]}


def _node_group(raw: dict[str, Any], types: _InstanceTypes) -> NodeGroup:
    instances = tuple(
        GroupInstance(
            instance_id=i["InstanceId"],
            instance_type=i.get("InstanceType"),
            availability_zone=i.get("AvailabilityZone", ""),
            lifecycle_state=i.get("LifecycleState", ""),
            health=i.get("HealthStatus", ""),
        )
        for i in raw.get("Instances", [])
    )
    return NodeGroup(
        name=raw["AutoScalingGroupName"],
        instance_types=types.of(raw, instances),
        desired=int(raw["DesiredCapacity"]),
        min_size=int(raw["MinSize"]),
        max_size=int(raw["MaxSize"]),
        instances=instances,
        tags={t["Key"]: t.get("Value", "") for t in raw.get("Tags", [])},
    )


class _InstanceTypes:
    """Instance types of a group: from its instances, else from what it launches
    (mixed-instances overrides, launch configuration or launch template)."""

    def __init__(self, aws: AwsSettings, autoscaling: Any) -> None:
        self._aws = aws
        self._autoscaling = autoscaling

    def of(self, raw: dict[str, Any], instances: Iterable[GroupInstance]) -> tuple[str, ...]:
        seen = _unique(i.instance_type for i in instances if i.instance_type)
        if seen:
            return seen
        mixed = raw.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
        overrides = _unique(o.get("InstanceType") for o in mixed.get("Overrides", []))
        if overrides:
            return overrides
        if raw.get("LaunchConfigurationName"):
            return self._from_launch_configuration(raw["LaunchConfigurationName"])
        template = raw.get("LaunchTemplate") or mixed.get("LaunchTemplateSpecification")
        return self._from_launch_template(template) if template else ()

    def _from_launch_configuration(self, name: str) -> tuple[str, ...]:
        with aws_errors("DescribeLaunchConfigurations"):
            found = self._autoscaling.describe_launch_configurations(
                LaunchConfigurationNames=[name]
            )["LaunchConfigurations"]
        return _unique(c.get("InstanceType") for c in found)

    def _from_launch_template(self, spec: dict[str, Any]) -> tuple[str, ...]:
        ec2 = aws_client("ec2", self._aws)
        ref = {"LaunchTemplateId": spec["LaunchTemplateId"]} if spec.get("LaunchTemplateId") else {
            "LaunchTemplateName": spec.get("LaunchTemplateName", "")
        }
        with aws_errors("DescribeLaunchTemplateVersions"):
            versions = ec2.describe_launch_template_versions(
                **ref, Versions=[str(spec.get("Version") or "$Default")]
            )["LaunchTemplateVersions"]
        return _unique(v.get("LaunchTemplateData", {}).get("InstanceType") for v in versions)


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))
