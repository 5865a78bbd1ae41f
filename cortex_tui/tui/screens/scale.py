"""`s`: change an API's autoscaling bounds from the keyboard, then write them to cortex.yaml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cortex_tui.backends import Backend
from cortex_tui.config.model import Compute
from cortex_tui.config.scaling import ScaleError, apply_scale
from cortex_tui.config.writeback import SCALE_KEYS, WritebackError, write_scale
from cortex_tui.tui.screens.number_dialog import NumberDialog, dialog_bindings
from cortex_tui.types import ApiState, ScaleRequest

LABELS = {
    "min_replicas": "min replicas",
    "max_replicas": "max replicas",
    "init_replicas": "init replicas",
    "target_cpu_utilization": "target cpu %",
}


@dataclass(frozen=True)
class ScaleOutcome:
    state: ApiState
    changed: dict[str, int]
    written: str | None  # None when written back, else why not


def scale_and_write_back(
    backend: Backend, api: str, changed: dict[str, int], before: dict[str, int], config_file: Path
) -> ScaleOutcome:
    """Scale through the backend, then write every value that moved (init may follow min)."""
    state = backend.scale(api, ScaleRequest(**changed))
    new = {key: getattr(state, key) for key in SCALE_KEYS if getattr(state, key) != before[key]}
    try:
        if not config_file.exists():
            raise WritebackError(f"{config_file} does not exist")
        write_scale(config_file, api, new)
    except WritebackError as exc:
        return ScaleOutcome(state, new, str(exc))
    return ScaleOutcome(state, new, None)


class ScaleScreen(NumberDialog):
    FIELDS = SCALE_KEYS
    LABELS = LABELS
    BINDINGS = dialog_bindings("scale")
    WORKER_GROUP = "scale"
    REFUSALS = (ScaleError,)

    def __init__(self, state: ApiState) -> None:
        super().__init__(f"Scale {state.name}", {k: int(getattr(state, k)) for k in SCALE_KEYS})
        self.api = state.name
        self.current = Compute(**self.initial)

    def check(self, changed: dict[str, int]) -> None:
        apply_scale(self.current, **changed)

    def submit(self, changed: dict[str, int]) -> Callable[[], ScaleOutcome]:
        backend, config, before, api = (
            self.cortex.backend, self.cortex.config_path, self.initial, self.api
        )
        return lambda: scale_and_write_back(backend, api, changed, before, config)

    def finished(self, value: ScaleOutcome) -> None:
        summary = ", ".join(f"{LABELS[k]} {v}" for k, v in value.changed.items())
        if value.written is None:
            self.app.notify(f"{self.api}: {summary} (saved in cortex.yaml)", title="scaled")
        else:
            self.app.notify(f"{self.api}: {summary}\nnot written back: {value.written}",
                            title="scaled", severity="warning")
