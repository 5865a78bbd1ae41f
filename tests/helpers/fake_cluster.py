"""A fixed cluster (node groups, nodes, pending pods) for the nodes page's snapshots and
screenshots. Behaviour is tested for real in tests/aws (moto + fakekube); this is only data."""

from __future__ import annotations

from dataclasses import replace

from cortex_tui.aws.node_groups import GroupInstance, NodeGroup, check_bounds, select_group
from cortex_tui.cluster import ClusterInfo, ClusterNode, GroupView, PendingPod

GIB = 1024**3


def _group(name: str, kind: str, sizes: tuple[int, int, int], ids: list[str]) -> NodeGroup:
    low, desired, high = sizes
    instances = tuple(GroupInstance(i, kind, "us-west-2a", "InService", "Healthy") for i in ids)
    return NodeGroup(name, (kind,), desired, low, high, instances)


def _node(name: str, group: str, kind: str, cpu: float, memory: int, gpu: int = 0,
          ready: bool = True) -> ClusterNode:
    return ClusterNode(name, ready, cpu, memory, gpu, f"i-{name[-4:]}", kind, group)


class FixedCluster:
    def __init__(self) -> None:
        self.groups = [
            _group("eks-cpu-workers", "m5.xlarge", (2, 3, 10), ["i-0a1", "i-0a2", "i-0a3"]),
            _group("eks-gpu-workers", "g4dn.xlarge", (0, 1, 4), ["i-0b1"]),
        ]

    def info(self) -> ClusterInfo:
        nodes = {
            "eks-cpu-workers": (
                _node("ip-10-0-1-17.us-west-2.compute.internal", "eks-cpu-workers", "m5.xlarge",
                      3.92, int(14.2 * GIB)),
                _node("ip-10-0-1-45.us-west-2.compute.internal", "eks-cpu-workers", "m5.xlarge",
                      3.92, int(14.2 * GIB)),
                _node("ip-10-0-2-88.us-west-2.compute.internal", "eks-cpu-workers", "m5.xlarge",
                      3.92, int(14.2 * GIB), ready=False),
            ),
            "eks-gpu-workers": (
                _node("ip-10-0-3-12.us-west-2.compute.internal", "eks-gpu-workers",
                      "g4dn.xlarge", 3.92, int(14.8 * GIB), gpu=1),
            ),
        }
        pending = (
            PendingPod("cortex", "sentiment-analyzer-7d9f8-xk2lp", "sentiment-analyzer", 4.0,
                       8 * GIB, 1, "0/4 nodes are available: 3 Insufficient nvidia.com/gpu, "
                       "1 Insufficient cpu."),
        )
        return ClusterInfo(
            environment="prod", region="us-west-2",
            groups=tuple(GroupView(g, nodes[g.name]) for g in self.groups),
            other_nodes=(), pending=pending,
        )

    def scale(self, group: str | None, min_instances: int | None,
              max_instances: int | None) -> NodeGroup:
        chosen = select_group(self.groups, group)
        low, high, desired = check_bounds(chosen, min_instances, max_instances)
        changed = replace(chosen, min_size=low, max_size=high, desired=desired)
        self.groups = [changed if g.name == chosen.name else g for g in self.groups]
        return changed
