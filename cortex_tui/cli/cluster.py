"""`cortex-tui cluster info|scale`: node groups, nodes and pods waiting for room.

    cortex-tui cluster info  [-e ENV] [-o table|json]
    cortex-tui cluster scale --min-instances N --max-instances M [GROUP] [-e ENV]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option

if TYPE_CHECKING:  # the cluster service imports boto3: load it only when the command runs
    from cortex_tui.aws.node_groups import NodeGroup
    from cortex_tui.cluster import ClusterInfo, ClusterNode


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="node groups (AWS Auto Scaling groups), nodes and pending pods of a Kubernetes env",
        description="Inspect the nodes of a Kubernetes environment and change the bounds of its "
        "node groups (AWS Auto Scaling groups named in the environment's aws settings).",
    )
    actions = parser.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    info = actions.add_parser(
        "info", help="node groups with desired/min/max, nodes with allocatable resources, "
        "pods pending for lack of room",
    )
    add_env_option(info)
    info.add_argument("-o", "--output", choices=("table", "json"), default="table")
    info.set_defaults(func=run_info)
    scale = actions.add_parser(
        "scale", help="change a node group's min / max instances (desired is kept inside)"
    )
    scale.add_argument("group", nargs="?", metavar="GROUP",
                       help="the node group (Auto Scaling group); optional when there is one")
    scale.add_argument("--min-instances", type=int, metavar="N", help="new minimum (>= 0)")
    scale.add_argument("--max-instances", type=int, metavar="M", help="new maximum (>= min)")
    add_env_option(scale)
    scale.set_defaults(func=run_scale)


def run_info(args: argparse.Namespace) -> int:
    info = get_backend(args.env).cluster().info()
    if args.output == "json":
        print(json.dumps(info.to_json(), indent=2))
    else:
        print(render_info(info))
    return 0


def run_scale(args: argparse.Namespace) -> int:
    cluster = get_backend(args.env).cluster()
    group = cluster.scale(args.group, args.min_instances, args.max_instances)
    print(f"node group {group.name}: {group_bounds(group)}")
    return 0


def group_bounds(group: NodeGroup) -> str:
    return f"desired {group.desired}, min {group.min_size}, max {group.max_size}"


def render_info(info: ClusterInfo) -> str:
    from cortex_tui.formats import format_cores, format_memory

    where = f" (region {info.region})" if info.region else ""
    lines = [f"environment {info.environment}{where}", ""]
    lines += [f"note: {n}" for n in info.notes]
    if info.groups:
        lines += table(
            ("node group", "instance type", "desired", "min", "max", "instances", "nodes"),
            [
                (v.group.name, ", ".join(v.group.instance_types) or "-", v.group.desired,
                 v.group.min_size, v.group.max_size, len(v.group.instances), len(v.nodes))
                for v in info.groups
            ],
        )
        lines.append("")
    nodes = info.nodes
    if nodes:
        lines += table(
            ("node", "group", "instance type", "ready", "cpu", "memory", "gpu"),
            [node_row(n) for n in nodes],
        )
        total_cpu = sum(n.cpu for n in nodes)
        total_mem = sum(n.memory for n in nodes)
        total_gpu = sum(n.gpu for n in nodes)
        lines.append(
            f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}: "
            f"{format_cores(total_cpu)} cpu, {format_memory(total_mem)} memory, {total_gpu} gpu "
            "allocatable"
        )
    elif info.nodes_listed:
        lines.append("no nodes")
    lines.append("")
    if info.pending:
        lines.append("pods pending for lack of room:")
        lines += table(
            ("pod", "api", "cpu", "memory", "gpu", "reason"),
            [
                (f"{p.namespace}/{p.name}", p.api or "-", format_cores(p.cpu),
                 format_memory(p.memory), p.gpu, p.message or "-")
                for p in info.pending
            ],
        )
    elif info.pending_listed:
        lines.append("no pods pending for lack of room")
    return "\n".join(lines).rstrip("\n")


def node_row(node: ClusterNode) -> tuple[Any, ...]:
    from cortex_tui.formats import format_cores, format_memory

    return (
        node.name, node.group or "-", node.instance_type or "-", "yes" if node.ready else "no",
        format_cores(node.cpu), format_memory(node.memory), node.gpu,
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [list(headers)] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]
