"""How quantities read to a person, in the CLI and the TUI alike (no Textual here): cores,
memory and ages. (The Kubernetes forms of cpu and memory are the config model's.)"""

from __future__ import annotations

GIB = 1024**3


def format_cores(cores: float) -> str:
    """1.0 -> "1", 1.93 -> "1.93", 0.5 -> "0.5"."""
    return f"{cores:g}" if cores == int(cores) else f"{cores:.2f}".rstrip("0")


def format_memory(size: int) -> str:
    """Bytes as Gi (one decimal) or Mi."""
    if size == 0:
        return "0"
    if size >= GIB:
        return f"{size / GIB:.1f}Gi"
    return f"{size / 1024**2:.0f}Mi"


def age(seconds: float | None) -> str:
    """How long ago, in its largest whole unit: "3d", "2h", "5m", "12s"; "-" when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{seconds // span}{unit}"
    return f"{seconds}s"
