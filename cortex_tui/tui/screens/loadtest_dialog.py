"""`b`: the load-test dialog. Samples (the project's sample.json, a JSON-lines file, or the
Predict tab's sample), profile, connections or a target rate, duration. Start checks every field
(reading the samples in a worker) and closes with a `LoadTestRequest`; Esc cancels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label, Select, Static

from cortex_tui.loadtest import spec as S
from cortex_tui.loadtest.samples import SampleError, load_samples, parse_text, project_sample
from cortex_tui.tui.messages import ActionFailed, LoadTestPrepared, run_blocking
from cortex_tui.tui.screens.base import CortexModal

SOURCES = {"project": "project sample.json", "file": "JSON lines file",
           "predict": "Predict tab sample"}
LOADS = {"concurrency": "connections", "rate": "requests/s"}


@dataclass(frozen=True)
class LoadTestRequest:
    samples: list[bytes]
    source: str  # where the samples came from, for the summary
    spec: S.LoadSpec


@dataclass(frozen=True)
class DialogValues:
    source: str
    file: str
    profile: str
    load: str
    amount: str
    duration: str


def build_request(root: Path, predict_text: str | None, v: DialogValues) -> LoadTestRequest:
    """The dialog's values checked and the samples read; ValueError names the field at fault."""
    try:
        duration = S.parse_duration(v.duration)
        amount = float(v.amount) if v.load == "rate" else int(v.amount)
    except ValueError as exc:
        if isinstance(exc, S.LoadSpecError):
            raise
        raise S.LoadSpecError(f"{LOADS[v.load]}: not a number ({v.amount!r})") from None
    if v.load == "rate":
        spec = S.LoadSpec(v.profile, S.MAX_CONCURRENCY, amount, duration)  # type: ignore[arg-type]
    else:
        spec = S.LoadSpec(v.profile, int(amount), None, duration)  # type: ignore[arg-type]
    if v.source == "predict":
        return LoadTestRequest(parse_text(predict_text or "", "Predict tab sample"),
                               "Predict tab sample", spec)
    if v.source == "file":
        if not v.file.strip():
            raise SampleError("samples file: give the path of a .jsonl file")
        path = root / v.file.strip()
    else:
        found = project_sample(root)
        if found is None:
            raise SampleError(f"{root} has no sample.json")
        path = found
    samples = load_samples(path)
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    return LoadTestRequest(samples, f"{shown} ({len(samples)})", spec)


class LoadTestDialog(CortexModal):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="loadtest.start"),
        Binding("escape", "cancel", "Cancel", id="loadtest.cancel"),
        Binding("tab", "app.focus_next", "Next field", id="loadtest.next", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous field", id="loadtest.previous",
                show=False),
        Binding("question_mark", "app.help", "Help", id="loadtest.help", show=False),
    ]
    HINT = "tab next field · ⏎ in a text field or ctrl+s start · esc cancel"

    def __init__(self, api: str, root: Path, predict_text: str | None = None) -> None:
        super().__init__()
        self.api = api
        self.root = root
        self.predict_text = predict_text
        self.busy = False

    def compose(self) -> ComposeResult:
        sources = [(label, key) for key, label in SOURCES.items()
                   if key != "predict" or self.predict_text is not None]
        first = "project" if project_sample(self.root) else "file"
        with Vertical(id="dialog"):
            yield Static(Text(f"Load test {self.api}", style="bold"), id="title")
            with Grid(id="lt-fields"):
                yield Label("samples")
                yield Select(sources, value=first, allow_blank=False, id="lt-source")
                yield Label("samples file")
                yield Input(placeholder="samples.jsonl (one JSON sample per line)",
                            id="lt-file", disabled=first != "file")
                yield Label("profile")
                yield Select([(p, p) for p in S.PROFILES], value=S.DEFAULT_PROFILE,
                             allow_blank=False, id="lt-profile")
                yield Label("load")
                yield Select([(label, key) for key, label in LOADS.items()],
                             value="concurrency", allow_blank=False, id="lt-load")
                yield Label("connections", id="lt-amount-label")
                yield Input(str(S.DEFAULT_CONCURRENCY), id="lt-amount")
                yield Label("duration")
                yield Input(f"{S.DEFAULT_DURATION:g}s", id="lt-duration")
            yield Static(id="reason")
            yield Static(Text(self.HINT, style="dim"))

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = False  # a steady cursor: snapshots do not depend on the moment
        self.query_one("#lt-duration", Input).focus()

    @on(Select.Changed, "#lt-source")
    def source_changed(self, event: Select.Changed) -> None:
        self.query_one("#lt-file", Input).disabled = event.value != "file"

    @on(Select.Changed, "#lt-load")
    def load_changed(self, event: Select.Changed) -> None:
        rate = event.value == "rate"
        self.query_one("#lt-amount-label", Label).update(LOADS[str(event.value)])
        self.query_one("#lt-amount", Input).value = "100" if rate else \
            str(S.DEFAULT_CONCURRENCY)

    def values(self) -> DialogValues:
        def value(selector: str) -> str:
            return str(self.query_one(selector, Input).value)

        return DialogValues(
            str(self.query_one("#lt-source", Select).value), value("#lt-file"),
            str(self.query_one("#lt-profile", Select).value),
            str(self.query_one("#lt-load", Select).value), value("#lt-amount"),
            value("#lt-duration"),
        )

    def say(self, message: str, style: str = "bold red") -> None:
        self.query_one("#reason", Static).update(Text(message, style=style))

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.say("reading the samples...", style="yellow")
        root, text, values = self.root, self.predict_text, self.values()
        run_blocking(self, LoadTestPrepared, lambda: build_request(root, text, values))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_load_test_prepared(self, message: LoadTestPrepared) -> None:
        message.stop()
        self.dismiss(message.value)

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is LoadTestPrepared:
            message.stop()
            self.busy = False
            self.say(f"refused: {message.error}")
