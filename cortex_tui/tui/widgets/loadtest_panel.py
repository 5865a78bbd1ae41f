"""The API detail's Load test tab: a running test plotted on one time axis (requests/s and
latency percentiles; responses by status; replicas requested vs ready, requests in flight and the
autoscaler's decisions), a progress bar with the time left, then the summary; the saved runs of
this API, two of which can be compared side by side."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from cortex_tui.interface import Backend
from cortex_tui.loadtest.report import ms, summary_lines
from cortex_tui.loadtest.run import LoadTest, RunRecord
from cortex_tui.loadtest.store import RunStore
from cortex_tui.tui.format import age
from cortex_tui.tui.messages import ActionFailed, LoadTestFinished, RunsLoaded, run_blocking
from cortex_tui.tui.widgets.plots import Draw, ThrottledPlot

COMPARED = 2


class LoadTestUpdate(Message):
    """A copy of the running test's record, posted by the worker once a second."""

    def __init__(self, record: RunRecord) -> None:
        super().__init__()
        self.record = record


def _snapshot(record: RunRecord) -> RunRecord:
    return replace(record, ticks=list(record.ticks), replicas=list(record.replicas),
                   decisions=list(record.decisions))


def _axis(plt: Any, record: RunRecord) -> None:
    plt.xlim(0, max(record.spec.duration, record.elapsed))
    plt.xlabel("seconds")


def _ylim(plt: Any, *series: list[float] | list[int], yside: str = "left") -> None:
    """An explicit top: with an open one plotext drew the highest points above the frame."""
    top = max((max(ys) for ys in series if ys), default=0) * 1.1 + 1
    plt.ylim(0, top, yside=yside)


def draw_latency(record: RunRecord) -> tuple[Hashable, Draw]:
    ticks = record.ticks
    xs = [t.t for t in ticks]
    rps = [t.requests for t in ticks]
    lines = {name: [getattr(t, name) or 0.0 for t in ticks] for name in ("p50", "p90", "p99")}

    def draw(plt: Any) -> None:
        plt.title("req/s · latency ms (right)")
        _axis(plt, record)
        if xs:
            plt.plot(xs, rps, label="req/s", marker="braille", color="blue")
            for (name, ys), color in zip(lines.items(), ("green", "orange", "red"), strict=True):
                plt.plot(xs, ys, label=name, marker="braille", color=color, yside="right")
            _ylim(plt, rps)
            _ylim(plt, *lines.values(), yside="right")

    return (tuple(xs), tuple(rps), record.spec.duration), draw


STATUS_LINES = (("code_2xx", "2XX", "green"), ("code_4xx", "4XX", "yellow"),
                ("code_5xx", "5XX", "red"), ("shed", "503 Retry-After", "magenta"),
                ("errors", "no answer", "gray"))


def draw_statuses(record: RunRecord) -> tuple[Hashable, Draw]:
    xs = [t.t for t in record.ticks]
    series = {key: [getattr(t, key) for t in record.ticks] for key, _, _ in STATUS_LINES}

    def draw(plt: Any) -> None:
        # the failures on their own (right) axis: a few among thousands of 2XX stay visible
        plt.title("responses/s: 2XX · failures (right)")
        _axis(plt, record)
        for key, label, color in STATUS_LINES:
            if xs and (key in ("code_2xx", "code_5xx") or any(series[key])):
                side = "left" if key == "code_2xx" else "right"
                plt.plot(xs, series[key], label=label, marker="braille", color=color, yside=side)
        _ylim(plt, series["code_2xx"])
        _ylim(plt, *(v for k, v in series.items() if k != "code_2xx"), yside="right")

    return (tuple(xs), tuple(tuple(v) for v in series.values())), draw


def draw_replicas(record: RunRecord) -> tuple[Hashable, Draw]:
    xs = [p.t for p in record.replicas]
    requested = [p.requested for p in record.replicas]
    ready = [p.ready for p in record.replicas]
    tx = [t.t for t in record.ticks]
    in_flight = [t.in_flight for t in record.ticks]
    decisions = [d.t for d in record.decisions]

    def draw(plt: Any) -> None:
        plt.title("replicas, in flight (r), | scaled")
        _axis(plt, record)
        if xs:
            plt.plot(xs, requested, label="requested", marker="braille", color="cyan")
            plt.plot(xs, ready, label="ready", marker="braille", color="green")
            top = max(requested + ready) + 1
            plt.ylim(0, top)
            plt.yticks(range(0, top + 1, max(1, top // 5)))
        if tx:
            plt.plot(tx, in_flight, label="in flight", marker="braille", color="orange",
                     yside="right")
            _ylim(plt, in_flight, yside="right")
        for t in decisions:
            plt.vline(t, color="magenta")

    return (tuple(xs), tuple(requested), tuple(ready), tuple(in_flight), tuple(decisions)), draw


def summary_table(record: RunRecord) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    for label, text in summary_lines(record):
        if label not in ("api", "load"):  # the status line above says these
            table.add_row(label, text)
    return table


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.4g}{unit}"


def compare_table(a: RunRecord, b: RunRecord) -> Table:
    """Two runs side by side: the figures of each and how the second compares."""
    sa, sb = a.summary(), b.summary()
    table = Table(title=f"run {a.id} vs run {b.id}", title_justify="left", box=None)
    for column in ("", f"run {a.id}", f"run {b.id}", "change"):
        table.add_column(column, justify="left" if not column else "right")
    rows: list[tuple[str, float | None, float | None, str]] = [
        ("load", None, None, ""), ("requests", sa["requests"], sb["requests"], ""),
        ("req/s", sa["requests_per_s"], sb["requests_per_s"], ""),
    ]
    rows += [(k, sa["latency_ms"][k], sb["latency_ms"][k], " ms")
             for k in ("p50", "p90", "p99", "p99.9", "max")]
    rows += [("error rate", 100 * sa["error_rate"], 100 * sb["error_rate"], " %")]
    for name, va, vb, unit in rows:
        if name == "load":
            table.add_row(name, a.spec.short(), b.spec.short(), "")
            continue
        change = "" if not va or vb is None else f"{vb / va:.2f}x"
        table.add_row(name, _fmt(va, unit), _fmt(vb, unit), change)
    reached = (a.replicas_reached(), b.replicas_reached())
    table.add_row("ready up to", *(str(r.get("max_ready", "-")) for r in reached), "")
    return table


class LoadTestPanel(Vertical):
    BINDINGS = [
        Binding("space", "mark", "Mark run", id="loadtest.mark"),
        Binding("c", "compare", "Compare", id="loadtest.compare"),
    ]

    def __init__(self, api: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api = api
        self.test: LoadTest | None = None
        self.record: RunRecord | None = None
        self.runs: dict[int, RunRecord] = {}
        self.marked: list[int] = []

    @property
    def running(self) -> bool:
        return self.test is not None

    def compose(self) -> ComposeResult:
        yield Static("no load test yet: press b to start one", id="lt-status")
        yield ProgressBar(total=1, show_eta=False, id="lt-progress")
        with Grid(id="lt-plots"):
            yield ThrottledPlot(id="lt-plot-latency")
            yield ThrottledPlot(id="lt-plot-statuses")
            yield ThrottledPlot(id="lt-plot-replicas")
        with Horizontal(id="lt-bottom"):
            yield Static(id="lt-summary")
            yield DataTable(id="lt-runs", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#lt-runs", DataTable)
        table.border_title = "saved runs · space mark · c compare"
        table.add_columns("run", "age", "load", "req/s", "p50", "p99", "errors")

    # -- running ----------------------------------------------------------------------------
    def start(self, backend: Backend, env: str, request: Any) -> None:
        """Run `request` (a LoadTestRequest) through `backend` in a thread worker."""
        if self.test is not None:
            return
        test = LoadTest(backend, self.api, request.samples, request.spec, target=env,
                        sample_source=request.source)
        self.test = test
        self.show(test.record)

        def job() -> RunRecord:
            record = test.run(lambda r: self.post_message(LoadTestUpdate(_snapshot(r))))
            if record.outcome is not None:
                RunStore().save(record)
            return record

        run_blocking(self, LoadTestFinished, job)

    def stop(self) -> None:
        if self.test is not None:
            self.test.stop()

    def on_load_test_update(self, message: LoadTestUpdate) -> None:
        message.stop()
        if self.test is not None:
            self.show(message.record)

    def on_load_test_finished(self, message: LoadTestFinished) -> None:
        message.stop()
        self.test = None
        self.show(message.value)
        self.load_runs()

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        message.stop()
        self.show_runs(message.value)

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is LoadTestFinished:
            self.test = None
            self.query_one("#lt-status", Static).update(
                Text(f"load test failed: {message.error}", style="bold red"))

    # -- drawing ----------------------------------------------------------------------------
    def show(self, record: RunRecord) -> None:
        self.record = record
        spec = record.spec
        left = max(0.0, spec.duration - record.elapsed)
        if record.outcome is None:
            state = f"running · {left:.0f} s left · esc or ctrl+c stops"
        else:
            state = "stopped" if record.stopped else "finished"
        via = f" via {record.via}" if record.via else ""
        self.query_one("#lt-status", Static).update(
            Text.assemble((f"{state}  ", "bold"), f"{spec.describe()}{via}"))
        bar = self.query_one("#lt-progress", ProgressBar)
        bar.update(total=spec.duration, progress=spec.duration if record.outcome
                   else min(record.elapsed, spec.duration))
        self.query_one("#lt-plot-latency", ThrottledPlot).show_data(*draw_latency(record))
        self.query_one("#lt-plot-statuses", ThrottledPlot).show_data(*draw_statuses(record))
        self.query_one("#lt-plot-replicas", ThrottledPlot).show_data(*draw_replicas(record))
        summary = self.query_one("#lt-summary", Static)
        summary.update(summary_table(record) if record.outcome else "")

    def load_runs(self) -> None:
        api, env = self.api, self.app.env  # type: ignore[attr-defined]
        run_blocking(self, RunsLoaded, lambda: RunStore().list(api, env))

    def show_runs(self, runs: list[RunRecord]) -> None:
        self.runs = {r.id: r for r in runs if r.id is not None}
        self.marked = [i for i in self.marked if i in self.runs]
        table = self.query_one("#lt-runs", DataTable)
        table.clear()
        now = self.app.clock()  # type: ignore[attr-defined]
        for run in runs:
            s = run.summary()
            started = f"{age(now - run.started)} ago"
            table.add_row(self._run_label(run.id), started,
                          run.spec.short(),
                          f"{s['requests_per_s']:.0f}", ms(s["latency_ms"]["p50"]),
                          ms(s["latency_ms"]["p99"]), str(s["errors"]), key=str(run.id))

    def _run_label(self, run_id: int | None) -> str:
        return f"{'●' if run_id in self.marked else ' '} {run_id}"

    def action_mark(self) -> None:
        table = self.query_one("#lt-runs", DataTable)
        if not self.runs or table.cursor_row < 0:
            return
        run_id = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or 0)
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-COMPARED:]
        for key in self.runs:
            table.update_cell(str(key), table.ordered_columns[0].key, self._run_label(key))

    def action_compare(self) -> None:
        if len(self.marked) < COMPARED:
            self.app.notify("mark two runs with space to compare them", timeout=3)
            return
        older, newer = sorted(self.marked)
        self.query_one("#lt-summary", Static).update(
            compare_table(self.runs[older], self.runs[newer]))


