"""A modal of whole-number fields edited from the keyboard: the API scale dialog and the node
group bounds dialog share it. Arrows / tab select a field, ←→ + - nudge, digits type,
backspace deletes, Enter checks then applies in a worker, Esc cancels.

Subclasses give `FIELDS`, `LABELS`, their `BINDINGS` (with their own ids, so a keymap can
rebind each dialog), and `check` / `submit` / `finished`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from cortex_tui.tui.messages import ActionFailed, Result, run_blocking
from cortex_tui.tui.screens.base import CortexModal

MAX_DIGITS = 4


def dialog_bindings(prefix: str) -> list[Binding]:
    """The dialog's keys, with binding ids under `prefix` (e.g. `scale.up`)."""
    return [
        Binding("up,shift+tab", "move(-1)", "Previous field", id=f"{prefix}.previous", show=False),
        Binding("down,tab", "move(1)", "Next field", id=f"{prefix}.next", show=False),
        Binding("right,plus,equals_sign", "nudge(1)", "+1", id=f"{prefix}.up"),
        Binding("left,minus", "nudge(-1)", "-1", id=f"{prefix}.down"),
        Binding("enter", "apply", "Apply", id=f"{prefix}.apply"),
        Binding("escape", "cancel", "Cancel", id=f"{prefix}.cancel"),
        # a modal screen hides the app's bindings: ? is repeated here
        Binding("question_mark", "app.help", "Help", id=f"{prefix}.help", show=False),
        # Digits are bindings too, not an on_key handler: a handler runs before the bindings of
        # keys typed just earlier, so a fast "3 ↓ 7" put the 7 in the first field.
        *(Binding(str(d), f"digit({d})", show=False) for d in range(10)),
        Binding("backspace", "erase", show=False),
    ]


class NumberDialog(CortexModal):
    FIELDS: ClassVar[tuple[str, ...]] = ()
    LABELS: ClassVar[dict[str, str]] = {}
    HINT = "↑↓ field · ←→ +- nudge · 0-9 type · ⏎ apply · esc cancel"
    RESULT: ClassVar[type[Result]] = Result  # what `submit`'s call posts when it is done
    REFUSALS: ClassVar[tuple[type[Exception], ...]] = ()  # what `check` raises for a bad value

    def __init__(self, title: str, initial: dict[str, int]) -> None:
        super().__init__()
        self.title_text = title
        self.initial = dict(initial)
        self.values = dict(initial)
        self.index = 0
        self._fresh = True  # the next digit replaces the value instead of appending
        self.busy = False

    # -- what subclasses provide ------------------------------------------------------------
    def check(self, changed: dict[str, int]) -> None:
        """Raise one of REFUSALS, whose message is the reason, when the values break a rule."""

    def submit(self, changed: dict[str, int]) -> Callable[[], Any]:
        """The blocking call that applies the change (run in a worker)."""
        raise NotImplementedError

    def finished(self, value: Any) -> None:
        """The call succeeded: tell the user (the dialog then closes with `value`)."""

    def extra_line(self) -> Text | None:
        """An optional line under the fields (e.g. the resulting desired count)."""
        return None

    # -- the dialog -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="title")
            yield Static(id="fields")
            yield Static(id="reason")
            yield Static(Text(self.HINT, style="dim"))

    def on_mount(self) -> None:
        self._draw()

    @property
    def field(self) -> str:
        return self.FIELDS[self.index]

    def _draw(self) -> None:
        text = Text()
        for i, key in enumerate(self.FIELDS):
            selected = i == self.index
            line = Text(f"{'>' if selected else ' '} {self.LABELS[key]:<14}")
            line.append(f" {self.values[key]:>4} ", style="reverse bold" if selected else "bold")
            if self.values[key] != self.initial[key]:
                line.append(f"  (was {self.initial[key]})", style="dim")
            text.append_text(line)
            if i < len(self.FIELDS) - 1:
                text.append("\n")
        extra = self.extra_line()
        if extra is not None:
            text.append("\n")
            text.append_text(extra)
        self.query_one("#fields", Static).update(text)

    def say(self, message: str, style: str = "bold red") -> None:
        self.query_one("#reason", Static).update(Text(message, style=style))

    def _edited(self) -> None:
        self._fresh = False
        self.say("")
        self._draw()

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.FIELDS)
        self._fresh = True
        self._draw()

    def action_nudge(self, step: int) -> None:
        self.values[self.field] = max(0, self.values[self.field] + step)
        self._edited()

    def action_digit(self, digit: int) -> None:
        digits = "" if self._fresh else str(self.values[self.field])
        self.values[self.field] = int((digits + str(digit))[-MAX_DIGITS:])
        self._edited()

    def action_erase(self) -> None:
        self.values[self.field] = int(str(self.values[self.field])[:-1] or 0)
        self._edited()

    def action_apply(self) -> None:
        if self.busy:
            return
        changed = {k: v for k, v in self.values.items() if v != self.initial[k]}
        if not changed:
            self.dismiss(None)
            return
        try:
            self.check(changed)
        except self.REFUSALS as exc:
            self.say(f"refused: {exc}")
            return
        self.busy = True
        self.say("applying...", style="yellow")
        run_blocking(self, self.RESULT, self.submit(changed))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Result)
    def applied(self, message: Result) -> None:
        if not isinstance(message, self.RESULT):
            return
        message.stop()
        self.finished(message.value)
        self.dismiss(message.value)

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is not self.RESULT:
            return
        message.stop()
        self.busy = False
        self.say(f"refused: {message.error}")
