"""The cluster behind a Kubernetes environment: node groups (AWS), nodes and pods with no room.

One service for `cortex-tui cluster info / scale` and the TUI's nodes panel. Node groups come
from the environment's `aws` settings; nodes and pending pods from Kubernetes. A node belongs
to the group holding the EC2 instance named by its `spec.providerID` (`aws:///zone/i-...`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from cortex_tui.aws.node_groups import NodeGroup, find_node_groups, select_group, set_bounds
from cortex_tui.errors import BackendError, TargetUnavailable
from cortex_tui.settings import Environment, resolve

GPU_RESOURCE = "nvidia.com/gpu"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
API_LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True)
class ClusterNode:
    name: str
    ready: bool
    cpu: float  # allocatable cores
    memory: int  # allocatable bytes
    gpu: int
    instance_id: str | None = None
    instance_type: str | None = None
    group: str | None = None  # the node group holding its instance, when known


@dataclass(frozen=True)
class PendingPod:
    """A pod the scheduler could not place (PodScheduled=False, reason Unschedulable)."""

    namespace: str
    name: str
    api: str | None  # the cortex API it serves, from its labels
    cpu: float  # requested cores (all containers)
    memory: int  # requested bytes
    gpu: int
    message: str  # the scheduler's reason, e.g. "0/3 nodes are available: 3 Insufficient cpu."


@dataclass(frozen=True)
class GroupView:
    group: NodeGroup
    nodes: tuple[ClusterNode, ...]


@dataclass(frozen=True)
class ClusterInfo:
    environment: str
    region: str | None
    groups: tuple[GroupView, ...]
    other_nodes: tuple[ClusterNode, ...]  # nodes of no configured group
    pending: tuple[PendingPod, ...]
    notes: tuple[str, ...] = field(default=())  # e.g. "no aws settings: node groups unknown"
    nodes_listed: bool = True  # False: RBAC forbade listing nodes (so none is not "no nodes")
    pending_listed: bool = True  # False: RBAC forbade listing pods

    @property
    def nodes(self) -> tuple[ClusterNode, ...]:
        return tuple(n for g in self.groups for n in g.nodes) + self.other_nodes

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "region": self.region,
            "node_groups": [_group_json(g) for g in self.groups],
            # null, not []: RBAC forbade the list, so the answer is unknown
            "nodes": [_node_json(n) for n in self.nodes] if self.nodes_listed else None,
            "pending_pods": [vars(p) for p in self.pending] if self.pending_listed else None,
            "notes": list(self.notes),
        }


def _group_json(view: GroupView) -> dict[str, Any]:
    group = view.group
    return {
        "name": group.name,
        "instance_types": list(group.instance_types),
        "desired": group.desired,
        "min_instances": group.min_size,
        "max_instances": group.max_size,
        "instances": len(group.instances),
        "nodes": [n.name for n in view.nodes],
    }


def _node_json(node: ClusterNode) -> dict[str, Any]:
    return dict(vars(node))


class ClusterService:
    """Blocking calls (the TUI runs them in workers); errors are BackendErrors."""

    def __init__(self, environment: Environment | str | None) -> None:
        env = environment if isinstance(environment, Environment) else resolve(environment)
        if env.kind != "kubernetes":
            raise BackendError(
                f'environment "{env.name}" is not a Kubernetes environment: node groups and '
                "nodes exist only there (use -e with a kubeconfig context or named environment)"
            )
        self.environment = env

    def node_groups(self) -> list[NodeGroup]:
        if self.environment.aws is None:
            raise BackendError(
                f'environment "{self.environment.name}" has no `aws` settings: add its region '
                "and node_groups (or node_group_tag) to settings.yaml"
            )
        return find_node_groups(self.environment.aws)

    def info(self) -> ClusterInfo:
        notes: list[str] = []
        groups: list[NodeGroup] = []
        aws = self.environment.aws
        if aws is None or not (aws.node_groups or aws.node_group_tag):
            notes.append("node groups unknown: the environment's `aws` settings name no "
                         "node_groups or node_group_tag")
        else:
            groups = find_node_groups(aws)
            if not groups:  # names that AWS does not know are an error already: a tag's typo
                region = f" in region {aws.region}" if aws.region else ""
                notes.append(f"no Auto Scaling group{region} has the tag {aws.node_group_tag!r} "
                             "(`aws.node_group_tag`)")
        nodes, pending = self._kubernetes(notes)
        listed = (nodes is not None, pending is not None)
        nodes, pending = nodes or [], pending or []
        by_instance = {i.instance_id: g.name for g in groups for i in g.instances}
        placed = [_with_group(n, by_instance.get(n.instance_id or "")) for n in nodes]
        views = tuple(
            GroupView(g, tuple(n for n in placed if n.group == g.name)) for g in groups
        )
        return ClusterInfo(
            environment=self.environment.name,
            region=self.environment.aws.region if self.environment.aws else None,
            groups=views,
            other_nodes=tuple(n for n in placed if n.group is None),
            pending=tuple(pending),
            notes=tuple(notes),
            nodes_listed=listed[0],
            pending_listed=listed[1],
        )

    def scale(self, group: str | None, min_instances: int | None, max_instances: int | None
              ) -> NodeGroup:
        """Change a node group's bounds (the only group when `group` is None)."""
        if min_instances is None and max_instances is None:
            raise BackendError("nothing to change: give --min-instances and/or --max-instances")
        aws = self.environment.aws
        chosen = select_group(self.node_groups(), group)
        assert aws is not None  # node_groups() refused otherwise
        return set_bounds(aws, chosen, min_instances, max_instances)

    def _kubernetes(self, notes: list[str]
                    ) -> tuple[list[ClusterNode] | None, list[PendingPod] | None]:
        """Nodes and unschedulable pods; what RBAC forbids becomes a note (and None), not a
        failure."""
        from kubernetes import client as k8s
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        from cortex_tui.kube.client import make_api_client, namespace_for, unreachable

        api_client = make_api_client(self.environment)
        core = k8s.CoreV1Api(api_client)
        pending = "status.phase=Pending"
        try:
            nodes = _forbidden_as_note(notes, "nodes", lambda: core.list_node().items)
            pods = _forbidden_as_note(
                None, "pods",
                lambda: core.list_pod_for_all_namespaces(field_selector=pending).items,
            )
            if pods is None:  # no cluster-wide read: the environment's namespace only
                namespace = namespace_for(self.environment)
                pods = _forbidden_as_note(notes, f"pods in namespace {namespace}", lambda: (
                    core.list_namespaced_pod(namespace, field_selector=pending).items))
            found = None if nodes is None else sorted(map(_node, nodes), key=lambda n: n.name)
            return found, None if pods is None else _unschedulable(pods)
        except ApiException as exc:
            raise BackendError(
                f"Kubernetes ({self.environment.name}): {exc.status} {exc.reason}"
            ) from None
        except (HTTPError, OSError) as exc:
            raise TargetUnavailable(
                f"environment {self.environment.name}: {unreachable(exc)}"
            ) from None
        finally:
            api_client.close()


def _forbidden_as_note(notes: list[str] | None, what: str, read: Callable[[], Any]) -> Any:
    """`read()`, or None when RBAC forbids it (noted in `notes` when given)."""
    from kubernetes.client.exceptions import ApiException

    try:
        return read()
    except ApiException as exc:
        if exc.status != 403:
            raise
        if notes is not None:
            notes.append(f"not allowed to list {what} (RBAC): not shown")
        return None


def _with_group(node: ClusterNode, group: str | None) -> ClusterNode:
    return node if group is None else replace(node, group=group)


def _node(node: Any) -> ClusterNode:
    allocatable = (node.status.allocatable if node.status else None) or {}
    labels = node.metadata.labels or {}
    conditions = (node.status.conditions if node.status else None) or []
    provider = (node.spec.provider_id if node.spec else None) or ""
    return ClusterNode(
        name=node.metadata.name,
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        cpu=float(_quantity(allocatable.get("cpu"))),
        memory=int(_quantity(allocatable.get("memory"))),
        gpu=int(_quantity(allocatable.get(GPU_RESOURCE))),
        instance_id=_instance_id(provider),
        instance_type=labels.get(INSTANCE_TYPE_LABEL)
        or labels.get("beta.kubernetes.io/instance-type"),
    )


def _instance_id(provider_id: str) -> str | None:
    """`aws:///us-east-1a/i-0abc` -> `i-0abc`; None for other providers."""
    if not provider_id.startswith("aws://"):
        return None
    last = provider_id.rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith("i-") else None


def _unschedulable(pods: Iterable[Any]) -> list[PendingPod]:
    found = []
    for pod in pods:
        if (pod.status.phase if pod.status else None) != "Pending":
            continue
        condition = next(
            (c for c in (pod.status.conditions or []) if c.type == "PodScheduled"), None
        )
        if condition is None or condition.status != "False" or condition.reason != "Unschedulable":
            continue
        containers = (pod.spec.containers if pod.spec else None) or []
        requests = [(c.resources.requests if c.resources else None) or {} for c in containers]
        found.append(PendingPod(
            namespace=pod.metadata.namespace or "",
            name=pod.metadata.name,
            api=(pod.metadata.labels or {}).get(API_LABEL),
            cpu=float(sum(_quantity(r.get("cpu")) for r in requests)),
            memory=int(sum(_quantity(r.get("memory")) for r in requests)),
            gpu=int(sum(_quantity(r.get(GPU_RESOURCE)) for r in requests)),
            message=condition.message or "",
        ))
    return sorted(found, key=lambda p: (p.namespace, p.name))


def _quantity(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    from kubernetes.utils import parse_quantity

    try:
        return Decimal(parse_quantity(value))
    except ValueError:
        return Decimal(0)
