"""`n`: the cluster's node groups, nodes and pods pending for lack of room; `s` changes a node
group's min / max instances from the keyboard (like the API scale dialog).

Every call goes through the backend's cluster service (`Backend.cluster()`) in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from cortex_tui.aws.clients import AwsError
from cortex_tui.aws.node_groups import NodeGroup, check_bounds
from cortex_tui.cluster import ClusterInfo
from cortex_tui.formats import format_cores, format_memory
from cortex_tui.tui.messages import ActionFailed, ClusterLoaded, NodeBoundsSet, run_blocking
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.screens.number_dialog import NumberDialog, dialog_bindings

REFRESH_EVERY_S = 10.0  # node groups change slowly; AWS calls cost
GROUP_COLUMNS = ("node group", "instance type", "desired", "min", "max", "instances", "nodes")
NODE_COLUMNS = ("node", "group", "instance type", "ready", "cpu", "memory", "gpu")


class ClusterLike(Protocol):
    def info(self) -> ClusterInfo: ...

    def scale(self, group: str | None, min_instances: int | None,
              max_instances: int | None) -> NodeGroup: ...


ServiceFactory = Callable[[str], ClusterLike]


def fill_table(table: DataTable, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Show rows (key, cells), updating in place when the keys are unchanged (keeps the cursor)."""
    keys = [key for key, _ in rows]
    current = [str(k.value) for k in table.rows]
    if keys == current:
        columns = list(table.columns)
        for key, cells in rows:
            for column, cell in zip(columns, cells, strict=True):
                table.update_cell(key, column, cell)
        return
    selected = current[table.cursor_row] if current and table.cursor_row < len(current) else None
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if selected in keys:
        table.move_cursor(row=keys.index(selected))


class NodesScreen(CortexScreen):
    DEFAULT_CSS = """
    NodesScreen #groups { height: auto; max-height: 12; border: round $primary; }
    NodesScreen #nodes { height: 1fr; border: round $secondary; }
    NodesScreen #pending { height: auto; max-height: 10; border: round $warning; padding: 0 1; }
    NodesScreen #cluster-status { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("s", "scale", "Min/max", id="nodes.scale"),
        Binding("r", "reload", "Refresh", id="nodes.refresh"),
        Binding("escape", "back", "Back", id="nodes.back"),
    ]

    def __init__(self, service_factory: ServiceFactory | None = None) -> None:
        super().__init__()
        self._factory: ServiceFactory | None = service_factory
        self.info: ClusterInfo | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="cluster-status")
        groups = DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        groups.border_title = "Node groups"
        yield groups
        nodes = DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
        nodes.border_title = "Nodes"
        yield nodes
        pending = Static(id="pending")
        pending.border_title = "Pods pending for lack of room"
        yield pending
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#groups", DataTable).add_columns(*GROUP_COLUMNS)
        self.query_one("#nodes", DataTable).add_columns(*NODE_COLUMNS)
        self.query_one("#groups", DataTable).focus()
        self._say(f"reading the cluster of {self.cortex.env}...", "yellow")
        if self.cortex.refresh_interval:
            self.set_interval(max(self.cortex.refresh_interval, REFRESH_EVERY_S), self._tick)
        self.refresh_data()

    def _tick(self) -> None:
        if self.is_current:
            self.refresh_data()

    def service(self) -> ClusterLike:
        if self._factory is not None:
            return self._factory(self.cortex.env)
        return self.cortex.backend.cluster()

    def refresh_data(self) -> None:
        run_blocking(self, ClusterLoaded, lambda: self.service().info(), exclusive=True)

    def action_reload(self) -> None:
        self.refresh_data()

    def action_back(self) -> None:
        self.app.pop_screen()

    def _say(self, message: str, style: str = "") -> None:
        self.query_one("#cluster-status", Static).update(Text(message, style=style))

    def on_cluster_loaded(self, message: ClusterLoaded) -> None:
        message.stop()
        self.info, self.error = message.value, None
        self._draw(message.value)

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is not ClusterLoaded:
            return
        message.stop()
        self.error = message.error
        self._say(message.error, "bold red")

    def _draw(self, info: ClusterInfo) -> None:
        region = f"  region {info.region}" if info.region else ""
        nodes = info.nodes
        summary = f"{info.environment}{region}  ·  " + (
            f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}: "
            f"{format_cores(sum(n.cpu for n in nodes))} cpu, "
            f"{format_memory(sum(n.memory for n in nodes))} memory, "
            f"{sum(n.gpu for n in nodes)} gpu"
            if info.nodes_listed else "nodes unknown (not allowed to list them)"
        )
        self._say("\n".join([summary, *(f"note: {n}" for n in info.notes)]))
        fill_table(self.query_one("#groups", DataTable), [
            (v.group.name, (v.group.name, ", ".join(v.group.instance_types) or "-",
                            str(v.group.desired), str(v.group.min_size), str(v.group.max_size),
                            str(len(v.group.instances)), str(len(v.nodes))))
            for v in info.groups
        ])
        fill_table(self.query_one("#nodes", DataTable), [
            (n.name, (n.name, n.group or "-", n.instance_type or "-",
                      Text("yes", style="green") if n.ready else Text("no", style="bold red"),
                      format_cores(n.cpu), format_memory(n.memory), str(n.gpu)))
            for n in nodes
        ])
        self._draw_pending(info)

    def _draw_pending(self, info: ClusterInfo) -> None:
        if not info.pending:
            shown = "none" if info.pending_listed else "unknown (not allowed to list pods)"
            self.query_one("#pending", Static).update(Text(shown, style="dim"))
            return
        text = Text()
        for i, pod in enumerate(info.pending):
            if i:
                text.append("\n")
            text.append(f"{pod.namespace}/{pod.name}", style="bold magenta")
            text.append(f"  api {pod.api or '-'}  cpu {format_cores(pod.cpu)}  "
                        f"memory {format_memory(pod.memory)}  gpu {pod.gpu}  ")
            text.append(pod.message or "", style="dim")
        self.query_one("#pending", Static).update(text)

    def selected_group(self) -> NodeGroup | None:
        if self.info is None or not self.info.groups:
            return None
        table = self.query_one("#groups", DataTable)
        index = min(max(table.cursor_row, 0), len(self.info.groups) - 1)
        return self.info.groups[index].group

    def action_scale(self) -> None:
        group = self.selected_group()
        if group is None:
            self.app.notify("no node group to change (the environment needs aws settings)",
                            severity="warning")
            return
        self.app.push_screen(
            NodeBoundsScreen(group, self.service), lambda _: self.refresh_data()
        )


class NodeBoundsScreen(NumberDialog):
    """min / max instances of one node group: arrows select and nudge, digits type."""

    DEFAULT_CSS = """
    NodeBoundsScreen { align: center middle; }
    NodeBoundsScreen #dialog {
        width: 64; height: auto; border: thick $accent; background: $surface; padding: 1 2;
    }
    """
    FIELDS = ("min", "max")
    LABELS = {"min": "min instances", "max": "max instances"}
    BINDINGS = dialog_bindings("nodes.bounds")
    RESULT = NodeBoundsSet
    REFUSALS = (AwsError,)

    def __init__(self, group: NodeGroup, service: Callable[[], ClusterLike]) -> None:
        super().__init__(f"Node group {group.name}", {"min": group.min_size, "max": group.max_size})
        self.group = group
        self._service = service

    def extra_line(self) -> Text:
        try:
            _low, _high, desired = check_bounds(self.group, self.values["min"], self.values["max"])
        except AwsError:
            desired = self.group.desired
        moved = f" (now {self.group.desired})" if desired != self.group.desired else ""
        return Text(f"  desired        {desired:>4}{moved}", style="dim")

    def check(self, changed: dict[str, int]) -> None:
        check_bounds(self.group, self.values["min"], self.values["max"])

    def submit(self, changed: dict[str, int]) -> Callable[[], NodeGroup]:
        name, service = self.group.name, self._service
        low, high = self.values["min"], self.values["max"]
        return lambda: service().scale(name, low, high)

    def finished(self, value: NodeGroup) -> None:
        self.app.notify(
            f"{value.name}: desired {value.desired}, min {value.min_size}, max {value.max_size}",
            title="node group changed",
        )
