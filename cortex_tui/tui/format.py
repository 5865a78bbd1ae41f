"""How values look on screen: status colours, numbers, sizes, ages. One place for all screens."""

from __future__ import annotations

from rich.text import Text

from cortex_tui.formats import age
from cortex_tui.types import ApiState, Status, TargetInfo

__all__ = ["age", "number", "size", "status_counts", "status_text", "target_line"]

STATUS_STYLES: dict[str, str] = {
    Status.LIVE: "bold green",
    Status.UPDATING: "bold yellow",
    Status.INSTALLING: "bold yellow",
    Status.ERROR: "bold red",
    Status.OUT_OF_MEMORY: "bold red",
    Status.COMPUTE_UNAVAILABLE: "bold magenta",
    Status.STOPPING: "yellow",
    Status.STOPPED: "dim",
}


def status_text(status: str) -> Text:
    return Text.assemble((str(status), STATUS_STYLES.get(status, "")))


def number(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}{unit}"


def size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def target_line(info: TargetInfo | None, env: str, failing: bool = False) -> str:
    if info is None:
        return f"target {env} ({'no answer' if failing else 'connecting...'})"
    where = "local" if info.kind == "local" else f"{info.name} / ns {info.namespace or '-'}"
    nodes = f"{info.nodes} node{'s' if info.nodes != 1 else ''}"
    gpu = f", {info.gpu} gpu" if info.gpu else ""
    models = sorted({f"{d.name}, {size(d.memory)}" for d in info.gpus})
    if models:
        gpu += f" ({'; '.join(models)})"
    return f"target {where} · {nodes}: {info.cpu:g} cpu, {size(info.memory)}{gpu}"


def status_counts(states: list[ApiState]) -> Text:
    counts: dict[str, int] = {}
    for state in states:
        counts[state.status] = counts.get(state.status, 0) + 1
    text = Text(f"{len(states)} api{'s' if len(states) != 1 else ''}")
    for status in Status:
        if counts.get(status):
            text.append("  ")
            text.append(f"{counts[status]} {status}", style=STATUS_STYLES[status])
    return text
