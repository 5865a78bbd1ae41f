"""The overview tab: status with its message, endpoint, replicas, autoscaling with its last
decisions and cold start, compute, recent events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from cortex_tui.config.model import ApiSpec, format_cpu
from cortex_tui.tui.format import age, number, size, status_text
from cortex_tui.types import ApiState, Decision, Event, ReplicaEndpoint

MAX_EVENTS = 10
MAX_DECISIONS = 5


def _gpu_line(r: ReplicaEndpoint) -> str:
    busy = number(r.gpu_utilization, 0, "% busy")
    used = "-" if r.gpu_memory_used is None else size(r.gpu_memory_used)
    return f"{r.name}: gpu {', '.join(map(str, r.gpus))} · {busy} · {used} used"


def _input_line(name: str, spec: Any) -> str:
    dims = ", ".join("?" if d is None else str(d) for d in spec.get("shape") or ())
    return f"{name}  [{dims}]  {spec.get('type')}"


def overview(state: ApiState, spec: ApiSpec | None, events: list[Event], now: float,
             decisions: Sequence[Decision] = ()) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    status = status_text(state.status)
    if state.message:
        status.append(f"  {state.message}", style="red")
    grid.add_row("status", status)
    grid.add_row("endpoint", state.endpoint or "-")
    grid.add_row(
        "replicas",
        f"up-to-date {state.up_to_date} · available {state.available} · "
        f"requested {state.requested} · failed {state.failed}",
    )
    if state.autoscale_on == "in_flight":
        target = number(state.target_in_flight, 3, " requests in flight per replica")
    else:
        target = f"cpu {state.target_cpu_utilization}%"
    grid.add_row(
        "autoscaling",
        f"min {state.min_replicas} · max {state.max_replicas} · init {state.init_replicas} · "
        f"target {target}",
    )
    if state.decision is not None:
        grid.add_row("last decision", Text(state.decision.summary()))
    if state.cold_start is not None:
        grid.add_row("cold start", Text(state.cold_start.summary()))
    if spec is not None:
        c = spec.compute
        mem = size(c.mem) if c.mem else "-"
        grid.add_row("compute", f"cpu {format_cpu(c.cpu)} · gpu {c.gpu} · mem {mem}")
    gpus = [r for r in state.replicas if r.gpus]
    if gpus:
        grid.add_row("gpus", "\n".join(_gpu_line(r) for r in gpus))
    if state.tracker is not None:
        key = spec.tracker.key if spec and spec.tracker and spec.tracker.key else None
        grid.add_row("tracker", state.tracker.model_type + (f" (key {key})" if key else ""))
    if state.signature:
        grid.add_row("inputs", "\n".join(_input_line(name, spec)
                                          for name, spec in state.signature.items()))
    net = state.network
    grid.add_row(
        "requests",
        f"{net.total} total · 2XX {net.code_2xx} · 4XX {net.code_4xx} · 5XX {net.code_5xx} · "
        f"avg latency {number(net.latency_ms, 1, ' ms')}",
    )
    last = None if state.last_update is None else now - state.last_update
    grid.add_row("last update", f"{age(last)} ago" if last is not None else "-")
    grid.add_row("", "")
    grid.add_row(Text("scaling decisions", style="bold underline"), "")
    shown = [d for d in decisions if d.notable][-MAX_DECISIONS:]
    if not shown:
        grid.add_row("", Text("none yet", style="dim"))
    for decision in reversed(shown):
        grid.add_row(Text(f"{age(now - decision.t)} ago", style="dim"),
                     Text(decision.summary()))
    grid.add_row("", "")
    grid.add_row(Text("recent events", style="bold underline"), "")
    recent = sorted(events, key=lambda e: e.t)[-MAX_EVENTS:]
    if not recent:
        grid.add_row("", Text("none", style="dim"))
    for event in reversed(recent):
        grid.add_row(Text(f"{age(now - event.t)} ago", style="dim"),
                     Text.assemble((event.kind, "cyan"), f"  {event.message}"))
    return grid
