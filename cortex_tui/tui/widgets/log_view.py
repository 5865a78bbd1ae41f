"""The logs tab: follows an API's replicas, `/` filters with highlights, `w` wraps, `f` follows.

Lines come from a `LogFollower` (a thread); a UI timer picks up new ones, so no widget is
touched off the event loop.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, RichLog, Static

from cortex_tui.tui.log_follower import MAX_LINES, LogFollower
from cortex_tui.types import LogLine

DRAIN_INTERVAL = 0.25


def render_line(line: LogLine, needle: str) -> Text:
    text = Text()
    text.append(f"{line.replica} ", style="dim cyan")
    text.append(line.text)
    if needle:
        text.highlight_words([needle], style="bold black on yellow", case_sensitive=False)
    return text


class LogPanel(Vertical):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="logs.filter"),
        Binding("w", "wrap", "Wrap", id="logs.wrap"),
        Binding("f", "follow", "Follow", id="logs.follow"),
        # only while a filter is shown: otherwise esc falls through to the screen's "Back"
        Binding("escape", "clear_filter", "Clear filter", id="logs.clear_filter"),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines: deque[LogLine] = deque(maxlen=MAX_LINES)
        self.needle = ""
        self.follow = True
        self.wrap = False
        self.follower: LogFollower | None = None
        self._seen = 0  # lines of the follower already shown

    def compose(self) -> ComposeResult:
        yield Static(id="log-status")
        yield Input(placeholder="filter lines", id="log-filter")
        yield RichLog(id="log", max_lines=MAX_LINES, wrap=False, markup=False, auto_scroll=True)

    def on_mount(self) -> None:
        self.query_one("#log-filter").display = False
        self._show_status()

    def attach(self, follower: LogFollower) -> None:
        if self.follower is not None:
            return
        self.follower = follower
        self.drain()
        self.set_interval(DRAIN_INTERVAL, self.drain)

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()

    def drain(self) -> None:
        follower = self.follower
        if follower is None:
            return
        new, self._seen = follower.since(self._seen)
        if new:
            self.lines.extend(new)
            log = self.query_one(RichLog)
            for line in new:
                if self._matches(line):
                    log.write(render_line(line, self.needle), scroll_end=self.follow)
        if follower.error or follower.ended:
            self._show_status()

    def _matches(self, line: LogLine) -> bool:
        return not self.needle or self.needle.lower() in line.text.lower()

    def _rewrite(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        log.wrap = self.wrap
        for line in self.lines:
            if self._matches(line):
                log.write(render_line(line, self.needle), scroll_end=self.follow)
        self._show_status()

    def _show_status(self) -> None:
        parts = [f"follow {'on' if self.follow else 'off'}", f"wrap {'on' if self.wrap else 'off'}"]
        if self.needle:
            parts.append(f"filter “{self.needle}”")
        follower = self.follower
        if follower is not None and follower.error:
            parts.append(f"error: {follower.error}")
        elif follower is not None and follower.ended:
            parts.append("stream ended")
        self.query_one("#log-status", Static).update(Text("  ·  ".join(parts), style="dim"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            boxes = self.query("#log-filter")
            return bool(boxes) and bool(boxes.first().display)
        return True

    def action_filter(self) -> None:
        box = self.query_one("#log-filter", Input)
        box.display = True
        box.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        box = self.query_one("#log-filter", Input)
        box.value = ""
        box.display = False
        self.query_one(RichLog).focus()
        self.refresh_bindings()

    def action_wrap(self) -> None:
        self.wrap = not self.wrap
        self._rewrite()

    def action_follow(self) -> None:
        self.follow = not self.follow
        log = self.query_one(RichLog)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self._show_status()

    @on(Input.Changed, "#log-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.needle = event.value
        self._rewrite()

    @on(Input.Submitted, "#log-filter")
    def filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(RichLog).focus()
