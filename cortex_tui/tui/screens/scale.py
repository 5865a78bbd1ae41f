"""`s`: change an API's autoscaling bounds from the keyboard, then write them to cortex.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from cortex_tui.backends.base import ApiState, Backend, ScaleRequest
from cortex_tui.config.model import Compute
from cortex_tui.config.scaling import ScaleError, apply_scale
from cortex_tui.config.writeback import SCALE_KEYS, WritebackError, write_scale
from cortex_tui.tui.messages import Done, Failed, run_blocking
from cortex_tui.tui.screens.base import CortexModal

LABELS = {
    "min_replicas": "min replicas",
    "max_replicas": "max replicas",
    "init_replicas": "init replicas",
    "target_cpu_utilization": "target cpu %",
}
MAX_DIGITS = 4


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


class ScaleScreen(CortexModal):
    BINDINGS = [
        Binding("up,shift+tab", "move(-1)", "Previous", show=False),
        Binding("down,tab", "move(1)", "Next", show=False),
        Binding("right,plus,equals_sign", "nudge(1)", "+1", id="scale.up"),
        Binding("left,minus", "nudge(-1)", "-1", id="scale.down"),
        Binding("enter", "apply", "Apply", id="scale.apply"),
        Binding("escape", "cancel", "Cancel", id="scale.cancel"),
    ]

    def __init__(self, state: ApiState) -> None:
        super().__init__()
        self.api = state.name
        self.initial = {key: int(getattr(state, key)) for key in SCALE_KEYS}
        self.values = dict(self.initial)
        self.current = Compute(**self.initial)
        self.index = 0
        self._fresh = True  # the next digit replaces the value instead of appending
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Scale {self.api}", style="bold"), id="title")
            yield Static(id="fields")
            yield Static(id="reason")
            yield Static(
                Text("↑↓ field · ←→ +- nudge · 0-9 type · ⏎ apply · esc cancel", style="dim")
            )

    def on_mount(self) -> None:
        self._draw()

    @property
    def field(self) -> str:
        return SCALE_KEYS[self.index]

    def _draw(self) -> None:
        text = Text()
        for i, key in enumerate(SCALE_KEYS):
            selected = i == self.index
            line = Text(f"{'>' if selected else ' '} {LABELS[key]:<14}")
            value = f" {self.values[key]:>4} "
            line.append(value, style="reverse bold" if selected else "bold")
            if self.values[key] != self.initial[key]:
                line.append(f"  (was {self.initial[key]})", style="dim")
            text.append_text(line)
            if i < len(SCALE_KEYS) - 1:
                text.append("\n")
        self.query_one("#fields", Static).update(text)

    def _say(self, message: str, style: str = "bold red") -> None:
        self.query_one("#reason", Static).update(Text(message, style=style))

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(SCALE_KEYS)
        self._fresh = True
        self._draw()

    def action_nudge(self, step: int) -> None:
        self.values[self.field] = max(0, self.values[self.field] + step)
        self._fresh = False
        self._say("")
        self._draw()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            digits = "" if self._fresh else str(self.values[self.field])
            self.values[self.field] = int((digits + event.character)[-MAX_DIGITS:])
        elif event.key == "backspace":
            self.values[self.field] = int(str(self.values[self.field])[:-1] or 0)
        else:
            return
        event.stop()
        self._fresh = False
        self._say("")
        self._draw()

    def action_apply(self) -> None:
        if self.busy:
            return
        changed = {k: v for k, v in self.values.items() if v != self.initial[k]}
        if not changed:
            self.dismiss(None)
            return
        try:
            apply_scale(self.current, **changed)
        except ScaleError as exc:
            self._say(f"refused: {exc}")
            return
        self.busy = True
        self._say("applying...", style="yellow")
        backend, config, before = self.cortex.backend, self.cortex.config_path, self.initial
        run_blocking(self, "scale",
                     lambda: scale_and_write_back(backend, self.api, changed, before, config))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_done(self, message: Done) -> None:
        if message.group != "scale":
            return
        message.stop()
        outcome: ScaleOutcome = message.value
        summary = ", ".join(f"{LABELS[k]} {v}" for k, v in outcome.changed.items())
        if outcome.written is None:
            self.app.notify(f"{self.api}: {summary} (saved in cortex.yaml)", title="scaled")
        else:
            self.app.notify(f"{self.api}: {summary}\nnot written back: {outcome.written}",
                            title="scaled", severity="warning")
        self.dismiss(outcome)

    def on_failed(self, message: Failed) -> None:
        if message.group != "scale":
            return
        message.stop()
        self.busy = False
        self._say(f"refused: {message.error}")
