"""plotext plots of one API: replicas, traffic and the tracker.

Each plot rebuilds only when its data changed and at most twice a second (a braille plot costs
tens of milliseconds on the event loop). Never use the module-level plotext functions here:
they share global state; each widget has its own `plt`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from textual_plotext import PlotextPlot

from cortex_tui.types import Decision, Metrics, TrackerStats

MIN_REDRAW_INTERVAL = 0.5  # seconds: at most 2 redraws per second
Draw = Callable[[Any], None]


class ThrottledPlot(PlotextPlot):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.signature: Hashable | None = None
        self.draws = 0  # how many times the figure was rebuilt (tests, bench)
        self._draw: Draw | None = None
        self._last = -math.inf
        self._scheduled = False

    def show_data(self, signature: Hashable, draw: Draw) -> None:
        if signature == self.signature:
            return
        self.signature = signature
        self._draw = draw
        wait = self._last + MIN_REDRAW_INTERVAL - time.monotonic()
        if wait <= 0:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._draw is None:
            return
        plt = self.plt
        plt.clear_figure()
        self._draw(plt)
        self._draw = None
        self._last = time.monotonic()
        self.draws += 1
        self.refresh()


def _seconds_ago_ticks(plt: Any, oldest: float) -> None:
    span = max(60, int(-oldest))
    step = 60 if span <= 300 else 300 if span <= 1800 else 900
    ticks = list(range(-(span // step) * step, 1, step))
    plt.xlim(min(ticks[0], oldest), span / 100)  # a margin: points at "now" stay inside
    plt.xticks(ticks, [f"-{-t // 60}m" if t else "now" for t in ticks])


def _times(metrics: Metrics) -> tuple[float, ...]:
    """The samples' own times: the signature must not move with the clock, only with data
    (the x axis, seconds before now, is placed when the plot is drawn)."""
    return tuple(p.t for p in metrics.points)


def draw_replicas(metrics: Metrics, now: float,
                  decisions: Sequence[Decision] = ()) -> tuple[Hashable, Draw]:
    xs = [p.t - now for p in metrics.points]
    requested = [p.requested for p in metrics.points]
    ready = [p.ready for p in metrics.points]
    oldest = metrics.points[0].t if metrics.points else now
    moves = [d for d in decisions if d.moved and d.t >= oldest]

    def draw(plt: Any) -> None:
        plt.title("replicas: requested vs ready, ▲▼ autoscaler decisions")
        if xs:
            plt.plot(xs, requested, label="requested", marker="braille", color="cyan")
            plt.plot(xs, ready, label="ready", marker="braille", color="green")
            for symbol, color, side in (("▲", "red", True), ("▼", "yellow", False)):
                picked = [d for d in moves if (d.final > d.current) == side]
                if picked:
                    plt.scatter([d.t - now for d in picked], [d.final for d in picked],
                                marker=symbol, color=color)
            plt.ylim(0, max(requested + ready + [d.final for d in moves]) + 1)
            _seconds_ago_ticks(plt, xs[0])

    signature = (_times(metrics), tuple(requested), tuple(ready),
                 tuple((d.t, d.final) for d in moves))
    return signature, draw


def draw_traffic(metrics: Metrics, now: float) -> tuple[Hashable, Draw]:
    xs = [p.t - now for p in metrics.points]
    title = "requests/s (left) and avg latency ms (right)"
    batch = metrics.batching.avg_batch_size if metrics.batching else None
    if batch is not None:  # server-side batching: how full the batches run
        title += f"; avg batch size {batch:.1f}"
    rate = [p.request_rate for p in metrics.points]
    latency = [p.latency_ms if p.latency_ms is not None else 0.0 for p in metrics.points]

    def draw(plt: Any) -> None:
        plt.title(title)
        if xs:
            plt.plot(xs, rate, label="req/s", marker="braille", color="blue")
            plt.plot(xs, latency, label="latency ms", marker="braille", color="orange",
                     yside="right")
            plt.ylim(0, None)  # rates and latencies start at 0 (all-zero data drew -1..1)
            plt.ylim(0, None, yside="right")
            _seconds_ago_ticks(plt, xs[0])

    return (_times(metrics), tuple(rate), tuple(latency), title), draw


def draw_gpu(metrics: Metrics, now: float) -> tuple[Hashable, Draw]:
    points = [p for p in metrics.points if p.gpu_utilization is not None]
    xs = [p.t - now for p in points]
    busy = [p.gpu_utilization or 0.0 for p in points]

    def draw(plt: Any) -> None:
        plt.title("GPU utilisation % (average of the API's devices)")
        if xs:
            plt.plot(xs, busy, label="gpu %", marker="braille", color="magenta")
            plt.ylim(0, 100)
            _seconds_ago_ticks(plt, xs[0])

    return ("gpu", tuple(p.t for p in points), tuple(busy)), draw


def _bucket_label(upper: float, lower: float | None) -> str:
    if math.isinf(upper):
        return f">{lower:g}" if lower is not None else "all"
    return f"≤{upper:g}"


def draw_tracker(tracker: TrackerStats | None) -> tuple[Hashable, Draw]:
    if tracker is None:
        return None, lambda plt: plt.title("no tracker configured")
    if tracker.model_type == "classification":
        dist = dict(tracker.class_distribution or {})
        labels, counts = list(dist), list(dist.values())

        def draw_classes(plt: Any) -> None:
            plt.title(f"class distribution ({sum(counts)} predictions)")
            if labels:
                plt.bar(labels, counts, color="cyan")

        return ("classes", tuple(labels), tuple(counts)), draw_classes
    stats = tracker.regression_stats
    buckets = list(stats.histogram) if stats else []
    labels = [
        _bucket_label(upper, buckets[i - 1][0] if i else None)
        for i, (upper, _count) in enumerate(buckets)
    ]
    counts = [count for _upper, count in buckets]

    def draw_histogram(plt: Any) -> None:
        if stats is None or not stats.sample_count:
            plt.title("regression: no predictions yet")
            return
        plt.title(f"regression: min {stats.min:g} · max {stats.max:g} · "
                  f"avg {stats.avg:.4g} · n {stats.sample_count}")
        plt.bar(labels, counts, color="magenta")

    return ("regression", tuple(labels), tuple(counts), stats), draw_histogram
