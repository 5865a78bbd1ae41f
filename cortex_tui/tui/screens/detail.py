"""Enter on an API: tabs overview / metrics / logs / predict, refreshed live."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Footer, Static, TabbedContent, TabPane

from cortex_tui.backends import Backend
from cortex_tui.config.model import ApiSpec
from cortex_tui.errors import ApiNotFound
from cortex_tui.tui.messages import Done, Failed, Poll, run_blocking
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.widgets.header import TargetHeader
from cortex_tui.tui.widgets.log_view import LogPanel
from cortex_tui.tui.widgets.overview import overview
from cortex_tui.tui.widgets.plots import (
    ThrottledPlot,
    draw_gpu,
    draw_replicas,
    draw_tracker,
    draw_traffic,
)
from cortex_tui.tui.widgets.predict import PredictPanel
from cortex_tui.types import ApiState, Event, Metrics, MetricsPoint

TABS = ("overview", "metrics", "logs", "predict")
MAX_POINTS = 360  # metrics history kept for the plots
SAMPLE_FILES = ("sample.json", "samples/sample.json")


@dataclass(frozen=True)
class Snapshot:
    state: ApiState
    metrics: Metrics
    events: list[Event]


def fetch(backend: Backend, api: str, since: float | None) -> Snapshot:
    state = backend.get(api)[0]
    return Snapshot(state, backend.metrics(api, since=since), backend.events(api))


def default_sample(root: Path) -> str:
    for name in SAMPLE_FILES:
        path = root / name
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8")
            except OSError:
                break
    return "{\n  \n}\n"


class DetailScreen(CortexScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("o", "tab('overview')", "Overview", id="detail.overview"),
        Binding("m", "tab('metrics')", "Metrics", id="detail.metrics"),
        Binding("l", "tab('logs')", "Logs", id="detail.logs"),
        Binding("p", "tab('predict')", "Predict", id="detail.predict"),
        Binding("s", "scale", "Scale", id="detail.scale"),
        Binding("ctrl+d", "delete", "Delete", id="detail.delete"),
    ]

    def __init__(self, api: str, tab: str = "overview") -> None:
        super().__init__()
        self.api = api
        self.initial_tab = tab if tab in TABS else "overview"
        self.snapshot: Snapshot | None = None
        self._points: deque[MetricsPoint] = deque(maxlen=MAX_POINTS)
        self._poll = Poll(self, "detail")

    def compose(self) -> ComposeResult:
        yield TargetHeader(id="header")
        with TabbedContent(initial=self.initial_tab, id="tabs"):
            with TabPane("Overview", id="overview"), VerticalScroll(id="overview-scroll"):
                yield Static("loading...", id="overview-body")
            with TabPane("Metrics", id="metrics"), Grid(id="plots"):
                yield ThrottledPlot(id="plot-replicas")
                yield ThrottledPlot(id="plot-traffic")
                yield ThrottledPlot(id="plot-tracker")
                yield ThrottledPlot(id="plot-gpu")
            with TabPane("Logs", id="logs"):
                yield LogPanel(id="log-panel")
            with TabPane("Predict", id="predict"):
                yield PredictPanel(default_sample(self.cortex.project_root), id="predict-panel")
        yield Footer()

    def on_mount(self) -> None:
        self._header()
        interval = self.cortex.refresh_interval
        if interval:
            self.set_interval(interval, self._tick)
        self.refresh_data()
        self._tab_shown(self.initial_tab)

    def _tick(self) -> None:
        if self.is_current:
            self.refresh_data()

    def refresh_data(self) -> None:
        backend, api = self.cortex.backend, self.api
        since = self._points[-1].t if self._points else None
        self._poll.run(lambda: fetch(backend, api, since))

    def _merge(self, snap: Snapshot) -> Snapshot:
        """Append the new points to the kept history (fetched incrementally with `since`)."""
        last = self._points[-1].t if self._points else None
        self._points.extend(p for p in snap.metrics.points if last is None or p.t > last)
        return replace(snap, metrics=replace(snap.metrics, points=tuple(self._points)))

    def _header(self) -> None:
        self.query_one(TargetHeader).show_api(
            self.cortex.target, self.cortex.env, self.api,
            self.snapshot.state if self.snapshot else None, self.cortex.readonly,
        )

    def _spec(self) -> ApiSpec | None:
        project = self.cortex.project
        if project is None or self.api not in project.api_names:
            return None
        return project.api(self.api)

    def on_done(self, message: Done) -> None:
        if message.group == "detail":
            self.snapshot = self._merge(message.value)
            self._draw()
        elif message.group == "predict":
            self.query_one(PredictPanel).show_result(message.value)
        else:
            return
        message.stop()

    def on_failed(self, message: Failed) -> None:
        if message.group == "predict":
            self.query_one(PredictPanel).show_error(message.error)
            message.stop()
        elif message.group == "detail" and message.error == str(ApiNotFound(self.api)):
            message.stop()
            self.notify(message.error, severity="warning")
            self.dismiss(None)

    def _draw(self) -> None:
        """Header, then only the tab in view (a hidden tab is drawn when it is shown)."""
        if self.snapshot is None:
            return
        self._header()
        tab = self.query_one(TabbedContent).active
        if tab == "overview":
            self._draw_overview()
        elif tab == "metrics":
            self._draw_plots()

    def _draw_overview(self) -> None:
        snap = self.snapshot
        if snap is not None:
            self.query_one("#overview-body", Static).update(
                overview(snap.state, self._spec(), snap.events, self.cortex.clock())
            )

    def _draw_plots(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        now = self.cortex.clock()
        self.query_one("#plot-replicas", ThrottledPlot).show_data(*draw_replicas(snap.metrics, now))
        self.query_one("#plot-traffic", ThrottledPlot).show_data(*draw_traffic(snap.metrics, now))
        tracker = snap.metrics.tracker or snap.state.tracker
        self.query_one("#plot-tracker", ThrottledPlot).show_data(*draw_tracker(tracker))
        with_gpu = any(p.gpu_utilization is not None for p in snap.metrics.points)
        self.query_one("#plots").set_class(with_gpu, "with-gpu")
        if with_gpu:
            self.query_one("#plot-gpu", ThrottledPlot).show_data(*draw_gpu(snap.metrics, now))

    # -- actions --------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, tab: str) -> None:
        # Let go of the focus first: a focused widget in the pane being hidden hands the focus
        # to a neighbour in that same pane, whose TabPane then re-activates itself.
        self.set_focus(None)
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._tab_shown(event.pane.id)

    def _tab_shown(self, tab: str) -> None:
        if tab == "overview":
            self._draw_overview()
            self.set_focus(self.query_one("#overview-scroll"))
        elif tab == "metrics":
            self._draw_plots()
        elif tab == "logs":
            panel = self.query_one(LogPanel)
            panel.attach(self.cortex.log_followers.follow(self.cortex.backend, self.api))
            self.set_focus(panel.query_one("#log"))
        elif tab == "predict":
            self.query_one(PredictPanel).show_keys()

    def action_scale(self) -> None:
        if self.snapshot is not None:
            self.cortex.open_scale(self.snapshot.state)

    def action_delete(self) -> None:
        self.cortex.confirm_delete(self.api)

    @on(PredictPanel.Send)
    def send(self, event: PredictPanel.Send) -> None:
        backend, api = self.cortex.backend, self.api
        run_blocking(self, "predict", lambda: backend.predict(api, event.sample, event.debug))

