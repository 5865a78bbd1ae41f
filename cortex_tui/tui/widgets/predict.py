"""The predict tab: edit a JSON sample, send it (ctrl+r), see status, time and response.

The sample is a TextArea, which takes every printable key. So arriving on the tab does not start
editing (the tab keys o / m / l / p keep working): enter edits the sample, esc stops editing,
and a second esc leaves the screen. The footer says which keys are live.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Static, TextArea

from cortex_tui.tui.widgets.text_area import OrderedTextArea
from cortex_tui.types import PredictResult


class SampleArea(OrderedTextArea):
    """The JSON sample. esc stops editing (a TextArea would otherwise keep the key)."""

    BINDINGS = [
        # priority: TextArea handles esc itself before non-priority bindings are looked at
        Binding("escape", "done", "Done editing", id="predict.done", priority=True),
    ]

    def action_done(self) -> None:
        self.screen.set_focus(self.screen.query_one("#response-box"))


EMPTY_SAMPLE = "{\n  \n}\n"  # the sample shown when the project has no sample.json


def sample_for(signature: Mapping[str, Any]) -> str:
    """A sample of the right shape for a model's inputs (zeros, "" for strings), without the
    batch axis the replica adds: the input itself when there is one, else an object by name."""
    def value(spec: Mapping[str, Any]) -> Any:
        shape = list(spec.get("shape") or [])[1:]  # the replica adds the batch axis
        kind = str(spec.get("type"))
        leaf: Any = "" if kind == "str" else False if kind == "bool" else \
            0 if "int" in kind else 0.0
        for dim in reversed(shape):
            leaf = [leaf] * (dim if isinstance(dim, int) and 0 < dim <= 64 else 1)
        return leaf

    values = {name: value(spec) for name, spec in signature.items()}
    sample = next(iter(values.values())) if len(values) == 1 else values
    return json.dumps(sample, indent=2) + "\n"


class PredictPanel(Vertical):
    BINDINGS = [
        Binding("ctrl+r", "send", "Send", id="predict.send"),
        Binding("ctrl+g", "toggle_debug", "Debug", id="predict.debug"),
        Binding("enter", "edit", "Edit sample", id="predict.edit"),
    ]

    class Send(Message):
        def __init__(self, sample: Any, debug: bool) -> None:
            super().__init__()
            self.sample = sample
            self.debug = debug

    def __init__(self, sample: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sample_text = sample

    def compose(self) -> ComposeResult:
        with Horizontal(id="predict-top"):
            sample = SampleArea(
                self.sample_text, id="sample", soft_wrap=True, tab_behavior="indent"
            )
            sample.cursor_blink = False
            sample.border_title = "sample (JSON)"
            sample.border_subtitle = "enter edits · esc done"
            yield sample
            with Vertical(id="predict-side"):
                yield Checkbox("debug (log sample and prediction)", id="debug")
                yield Static(Text("ctrl+r sends the sample", style="dim"), id="predict-status")
                with VerticalScroll(id="response-box"):
                    yield Static(id="response")

    def suggest(self, signature: Mapping[str, Any] | None) -> None:
        """Fill a sample of the model's shape in, while the sample is still the empty one."""
        area = self.query_one("#sample", TextArea)
        if signature and area.text == EMPTY_SAMPLE:
            area.text = sample_for(signature)

    def show_keys(self) -> None:
        """Arriving on the tab: focus the response, so tab keys and ctrl+r work at once."""
        self.screen.set_focus(self.query_one("#response-box"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":  # offered only outside the sample
            samples = self.query(SampleArea)
            return bool(samples) and not samples.first().has_focus
        return True

    def action_edit(self) -> None:
        self.query_one("#sample", SampleArea).focus()

    @property
    def debug(self) -> bool:
        return self.query_one("#debug", Checkbox).value

    def action_toggle_debug(self) -> None:
        self.query_one("#debug", Checkbox).toggle()

    def action_send(self) -> None:
        text = self.query_one("#sample", TextArea).text
        try:
            sample = json.loads(text)
        except json.JSONDecodeError as exc:
            self.show_error(
                f"sample is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
            )
            return
        self.query_one("#predict-status", Static).update(Text("sending...", style="yellow"))
        self.post_message(self.Send(sample, self.debug))

    def show_error(self, error: str) -> None:
        self.query_one("#predict-status", Static).update(Text(error, style="bold red"))

    def show_result(self, result: PredictResult) -> None:
        ok = 200 <= result.status < 300
        status = Text(f"HTTP {result.status}", style="bold green" if ok else "bold red")
        status.append(f"  {result.elapsed_ms:.1f} ms", style="")
        self.query_one("#predict-status", Static).update(status)
        self.query_one("#response", Static).update(Text(result.shown()))
