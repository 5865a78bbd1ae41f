"""`s`: change an API's autoscaling bounds from the keyboard, then write them to cortex.yaml."""

from __future__ import annotations

from collections.abc import Callable

from cortex_tui.actions import ScaleOutcome, check_scale, scale
from cortex_tui.config.scaling import SCALE_KEYS, ScaleError
from cortex_tui.tui.messages import Scaled
from cortex_tui.tui.screens.number_dialog import NumberDialog, dialog_bindings
from cortex_tui.types import ApiState, ScaleRequest

LABELS = {
    "min_replicas": "min replicas",
    "max_replicas": "max replicas",
    "init_replicas": "init replicas",
    "target_cpu_utilization": "target cpu %",
}


class ScaleScreen(NumberDialog):
    FIELDS = SCALE_KEYS
    LABELS = LABELS
    BINDINGS = dialog_bindings("scale")
    RESULT = Scaled
    REFUSALS = (ScaleError,)

    def __init__(self, state: ApiState) -> None:
        super().__init__(f"Scale {state.name}", {k: int(getattr(state, k)) for k in SCALE_KEYS})
        self.api = state.name
        self.state = state

    def check(self, changed: dict[str, int]) -> None:
        check_scale(self.state, ScaleRequest(**changed))

    def submit(self, changed: dict[str, int]) -> Callable[[], ScaleOutcome]:
        backend, config, before, api = (
            self.cortex.backend, self.cortex.config_path, self.state, self.api
        )
        return lambda: scale(backend, api, ScaleRequest(**changed), before=before,
                             config_file=config)

    def finished(self, value: ScaleOutcome) -> None:
        summary = ", ".join(f"{LABELS[k]} {v}" for k, v in value.changed.items())
        if value.not_written is None:
            self.app.notify(f"{self.api}: {summary} (saved in cortex.yaml)", title="scaled")
        else:
            self.app.notify(f"{self.api}: {summary}\nnot written back: {value.not_written}",
                            title="scaled", severity="warning")
