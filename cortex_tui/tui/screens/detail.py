"""Enter on an API: tabs overview / metrics / logs / predict / load test, refreshed live."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Footer, Static, TabbedContent, TabPane, TextArea

from cortex_tui.backends import Backend
from cortex_tui.config.model import ApiSpec
from cortex_tui.errors import ApiNotFound
from cortex_tui.loadtest.samples import project_sample
from cortex_tui.tui.messages import ActionFailed, DetailLoaded, Poll, Predicted, run_blocking
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.widgets.header import TargetHeader
from cortex_tui.tui.widgets.loadtest_panel import LoadTestPanel
from cortex_tui.tui.widgets.log_view import LogPanel
from cortex_tui.tui.widgets.overview import overview
from cortex_tui.tui.widgets.plots import (
    ThrottledPlot,
    draw_gpu,
    draw_replicas,
    draw_tracker,
    draw_traffic,
)
from cortex_tui.tui.widgets.predict import EMPTY_SAMPLE, PredictPanel
from cortex_tui.types import ApiState, Decision, Event, Metrics, MetricsPoint

TABS = ("overview", "metrics", "logs", "predict", "loadtest")
MAX_POINTS = 360  # metrics history kept for the plots
MAX_DECISIONS = 200  # notable autoscaler decisions kept (plot markers, the overview's list)


@dataclass(frozen=True)
class Snapshot:
    state: ApiState
    metrics: Metrics
    events: list[Event]
    decisions: tuple[Decision, ...] = ()


def fetch(backend: Backend, api: str, since: float | None,
          decided: float | None = None) -> Snapshot:
    state = backend.get(api)[0]
    decisions = [d for d in backend.decisions(api, since=decided) if d.notable]
    return Snapshot(state, backend.metrics(api, since=since), backend.events(api),
                    tuple(d for d in decisions if decided is None or d.t > decided))


def default_sample(root: Path) -> str:
    path = project_sample(root)
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            pass
    return EMPTY_SAMPLE


class DetailScreen(CortexScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("o", "tab('overview')", "Overview", id="detail.overview"),
        Binding("m", "tab('metrics')", "Metrics", id="detail.metrics"),
        Binding("l", "tab('logs')", "Logs", id="detail.logs"),
        Binding("p", "tab('predict')", "Predict", id="detail.predict"),
        Binding("t", "tab('loadtest')", "Load test", id="detail.loadtest"),
        Binding("b", "bench", "Bench", id="detail.bench"),
        Binding("ctrl+c", "stop_load", "Stop test", id="detail.stop_load"),
        Binding("s", "scale", "Scale", id="detail.scale"),
        Binding("ctrl+d", "delete", "Delete", id="detail.delete"),
    ]

    def __init__(self, api: str, tab: str = "overview", bench: bool = False) -> None:
        super().__init__()
        self.api = api
        self.bench_on_mount = bench  # open the load-test dialog at once (b on the APIs view)
        self.initial_tab = tab if tab in TABS else "overview"
        self.snapshot: Snapshot | None = None
        self._points: deque[MetricsPoint] = deque(maxlen=MAX_POINTS)
        self._decisions: deque[Decision] = deque(maxlen=MAX_DECISIONS)
        self._poll = Poll(self, DetailLoaded)

    def compose(self) -> ComposeResult:
        yield TargetHeader(self.api, id="header")
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
            with TabPane("Load test", id="loadtest"):
                yield LoadTestPanel(self.api, id="loadtest-panel")
        yield Footer()

    def on_mount(self) -> None:
        interval = self.cortex.refresh_interval
        if interval:
            self.set_interval(interval, self._tick)
        self.refresh_data()
        self._tab_shown(self.initial_tab)
        self._load_panel = self.query_one(LoadTestPanel)
        if self.bench_on_mount:
            self.action_bench()

    def on_unmount(self) -> None:
        self._load_panel.stop()  # leaving the API ends its load test

    def _tick(self) -> None:
        if self.is_current:
            self.refresh_data()

    def refresh_data(self) -> None:
        backend, api = self.cortex.backend, self.api
        since = self._points[-1].t if self._points else None
        decided = self._decisions[-1].t if self._decisions else None
        self._poll.run(lambda: fetch(backend, api, since, decided))

    def _merge(self, snap: Snapshot) -> Snapshot:
        """Append the new points to the kept history (fetched incrementally with `since`)."""
        last = self._points[-1].t if self._points else None
        self._points.extend(p for p in snap.metrics.points if last is None or p.t > last)
        self._decisions.extend(snap.decisions)
        return replace(snap, metrics=replace(snap.metrics, points=tuple(self._points)),
                       decisions=tuple(self._decisions))

    def _spec(self) -> ApiSpec | None:
        project = self.cortex.project
        if project is None or self.api not in project.api_names:
            return None
        return project.api(self.api)

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        message.stop()
        self.snapshot = self._merge(message.value)
        self.query_one(PredictPanel).suggest(self.snapshot.state.signature)
        self._draw()

    def on_predicted(self, message: Predicted) -> None:
        message.stop()
        self.query_one(PredictPanel).show_result(message.value)

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is Predicted:
            self.query_one(PredictPanel).show_error(message.error)
            message.stop()
        elif message.action is DetailLoaded and isinstance(message.exc, ApiNotFound):
            message.stop()
            self.notify(message.error, severity="warning")
            self.dismiss(None)

    def _draw(self) -> None:
        """Header, then only the tab in view (a hidden tab is drawn when it is shown)."""
        if self.snapshot is None:
            return
        self.query_one(TargetHeader).api_state = self.snapshot.state
        tab = self.query_one(TabbedContent).active
        if tab == "overview":
            self._draw_overview()
        elif tab == "metrics":
            self._draw_plots()

    def _draw_overview(self) -> None:
        snap = self.snapshot
        if snap is not None:
            self.query_one("#overview-body", Static).update(
                overview(snap.state, self._spec(), snap.events, self.cortex.clock(),
                         snap.decisions)
            )

    def _draw_plots(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        now = self.cortex.clock()
        self.query_one("#plot-replicas", ThrottledPlot).show_data(
            *draw_replicas(snap.metrics, now, snap.decisions))
        self.query_one("#plot-traffic", ThrottledPlot).show_data(*draw_traffic(snap.metrics, now))
        tracker = snap.metrics.tracker or snap.state.tracker
        self.query_one("#plot-tracker", ThrottledPlot).show_data(*draw_tracker(tracker))
        with_gpu = any(p.gpu_utilization is not None for p in snap.metrics.points)
        self.query_one("#plots").set_class(with_gpu, "with-gpu")
        if with_gpu:
            self.query_one("#plot-gpu", ThrottledPlot).show_data(*draw_gpu(snap.metrics, now))

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("bench", "stop_load"):
            panel = self.query_one(LoadTestPanel)
            if action == "stop_load":
                return panel.running
            return self.cortex.backend.supports_load_test and not panel.running
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        if self.query_one(LoadTestPanel).running:  # esc stops a running load test first
            self.action_stop_load()
            return
        self.dismiss(None)

    def action_stop_load(self) -> None:
        self.query_one(LoadTestPanel).stop()
        self.notify("stopping the load test", timeout=2)

    def action_bench(self) -> None:
        from cortex_tui.tui.screens.loadtest_dialog import LoadTestDialog

        if not self.cortex.backend.supports_load_test:
            self.notify("load tests are not available on this target", severity="warning")
            return
        text = self.query_one("#sample", TextArea).text

        def chosen(request: object) -> None:
            if request is None:
                return
            self.action_tab("loadtest")
            panel = self.query_one(LoadTestPanel)
            panel.start(self.cortex.backend, self.cortex.env, request)
            self.refresh_bindings()

        self.app.push_screen(LoadTestDialog(self.api, self.cortex.project_root, text), chosen)

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
        elif tab == "loadtest":
            panel = self.query_one(LoadTestPanel)
            panel.load_runs()
            self.set_focus(panel.query_one("#lt-runs"))

    def action_scale(self) -> None:
        if self.snapshot is not None:
            self.cortex.open_scale(self.snapshot.state)

    def action_delete(self) -> None:
        self.cortex.confirm_delete(self.api)

    @on(PredictPanel.Send)
    def send(self, event: PredictPanel.Send) -> None:
        backend, api = self.cortex.backend, self.api
        run_blocking(self, Predicted, lambda: backend.predict(api, event.sample, event.debug))

