"""Read an API's prediction metrics back from CloudWatch with GetMetricData.

What replicas published (`predictor.cloudwatch`: request counts by status class, latency,
tracker values) outlives the pods, so `get API` and the TUI show history from here when the
environment has `aws.cloudwatch_namespace`. Every dimension set carrying `API=<name>` counts
(several deployments of the same API name are summed).

Replica counts come from each replica's once-a-minute heartbeat (`Replicas`): a point's
requested and ready are the replicas that ran in that minute. `combine` puts CloudWatch's
history before the backend's own live points.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cortex_tui.aws.clients import AwsError, aws_client, aws_errors
from cortex_tui.settings import AwsSettings
from cortex_tui.types import Metrics, MetricsPoint, NetworkStats, RegressionStats, TrackerStats
from predictor.cloudwatch import (
    DIM_API,
    DIM_CLASS,
    METRIC_CLASS,
    METRIC_LATENCY,
    METRIC_REPLICAS,
    METRIC_VALUE,
    STATUS_CLASSES,
    status_metric,
)

SERIES_WINDOW_S = 3600  # default time series: the last hour, per minute
TOTALS_WINDOW_S = 14 * 86400  # totals: the retention of 1-minute data, summed per day
_MAX_QUERIES = 500  # GetMetricData limit per call


@dataclass(frozen=True)
class _Series:
    """One metric (all its dimension sets), one statistic: value per period start."""

    values: dict[float, float]

    def total(self) -> float:
        return sum(self.values.values())


def _key(metric: str, stat: str, klass: str | None = None) -> tuple[str, str, str | None]:
    return (metric, stat, klass)


class CloudWatchReader:
    def __init__(self, aws: AwsSettings, clock: Any = time.time) -> None:
        if not aws.cloudwatch_namespace:
            raise AwsError("CloudWatch monitoring is off: the environment has no "
                           "`aws.cloudwatch_namespace`")
        self.namespace = aws.cloudwatch_namespace
        self._client = aws_client("cloudwatch", aws)
        self._clock = clock

    def metrics(self, api: str, since: float | None = None) -> Metrics:
        """Points of the complete minutes since `since` (default: the last hour) and totals."""
        network, tracker = self.totals(api)
        return Metrics(api=api, points=self.points(api, since), network=network,
                       tracker=tracker)

    def points(self, api: str, since: float | None = None) -> tuple[MetricsPoint, ...]:
        """One point per complete minute after `since` (default: the last hour), stamped with
        the minute's end; requested and ready are the replicas that ran in that minute."""
        now = self._clock()
        start = since if since is not None else now - SERIES_WINDOW_S
        points = _points(self._read(api, start, now, 60))
        return tuple(p for p in points if p.t <= now and (since is None or p.t > since))

    def totals(self, api: str) -> tuple[NetworkStats, TrackerStats | None]:
        """Totals over CloudWatch's retention of per-minute data (two weeks), per day."""
        now = self._clock()
        series = self._read(api, now - TOTALS_WINDOW_S, now, 86400)
        return _network(series), _tracker(series)

    # --- GetMetricData ---

    def _read(
        self, api: str, start: float, end: float, period: int
    ) -> dict[tuple[str, str, str | None], _Series]:
        queries: list[tuple[tuple[str, str, str | None], dict[str, Any]]] = []
        for metric in self._list(api):
            for stat in _STATS.get(metric["MetricName"], ()):
                klass = _dimension(metric, DIM_CLASS)
                queries.append((_key(metric["MetricName"], stat, klass), {
                    "Metric": {
                        "Namespace": self.namespace,
                        "MetricName": metric["MetricName"],
                        "Dimensions": metric.get("Dimensions", []),
                    },
                    "Period": period,
                    "Stat": stat,
                }))
        combined: dict[tuple[str, str, str | None], dict[float, float]] = defaultdict(dict)
        for offset in range(0, len(queries), _MAX_QUERIES):
            chunk = queries[offset : offset + _MAX_QUERIES]
            results = self._get(chunk, start, end)
            for index, (key, _query) in enumerate(chunk):
                for t, value in results.get(f"q{index}", ()):
                    _fold(combined[key], key[1], t, value)
        return {key: _Series(values) for key, values in combined.items()}

    def _list(self, api: str) -> list[dict[str, Any]]:
        with aws_errors("ListMetrics"):
            pages = self._client.get_paginator("list_metrics").paginate(
                Namespace=self.namespace, Dimensions=[{"Name": DIM_API, "Value": api}]
            )
            listed = [m for page in pages for m in page.get("Metrics", [])]
        unique: dict[tuple[str, frozenset[tuple[str, str]]], dict[str, Any]] = {}
        for metric in listed:  # a metric listed twice would be counted twice
            dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            unique.setdefault((metric["MetricName"], dims), metric)
        return list(unique.values())

    def _get(
        self, chunk: list[tuple[Any, dict[str, Any]]], start: float, end: float
    ) -> dict[str, list[tuple[float, float]]]:
        out: dict[str, list[tuple[float, float]]] = defaultdict(list)
        request = {
            "MetricDataQueries": [
                {"Id": f"q{i}", "MetricStat": stat, "ReturnData": True}
                for i, (_key, stat) in enumerate(chunk)
            ],
            "StartTime": datetime.fromtimestamp(int(start) // 60 * 60, UTC),
            "EndTime": datetime.fromtimestamp(int(end) // 60 * 60 + 60, UTC),
            "ScanBy": "TimestampAscending",
        }
        with aws_errors("GetMetricData"):
            for page in self._client.get_paginator("get_metric_data").paginate(**request):
                for result in page.get("MetricDataResults", []):
                    stamps, values = result.get("Timestamps", []), result.get("Values", [])
                    pairs = zip(stamps, values, strict=False)
                    out[result["Id"]].extend(
                        (ts.timestamp(), float(v)) for ts, v in pairs if v is not None
                    )
        return out


_COUNT_STATS = ("Sum",)
_SET_STATS = ("Sum", "SampleCount", "Minimum", "Maximum")
_STATS: dict[str, tuple[str, ...]] = {
    **{status_metric(c): _COUNT_STATS for c in STATUS_CLASSES},
    METRIC_LATENCY: ("Sum", "SampleCount"),
    METRIC_CLASS: _COUNT_STATS,
    METRIC_VALUE: _SET_STATS,
    METRIC_REPLICAS: _COUNT_STATS,
}


def _dimension(metric: dict[str, Any], name: str) -> str | None:
    for dim in metric.get("Dimensions", []):
        if dim.get("Name") == name:
            return str(dim.get("Value"))
    return None


def _fold(values: dict[float, float], stat: str, t: float, value: float) -> None:
    """Combine one dimension set's value into the metric's (sum, or min / max)."""
    if t not in values:
        values[t] = value
    elif stat == "Minimum":
        values[t] = min(values[t], value)
    elif stat == "Maximum":
        values[t] = max(values[t], value)
    else:
        values[t] += value


def _total(series: dict[Any, _Series], key: tuple[str, str, str | None]) -> float:
    found = series.get(key)
    return found.total() if found else 0.0


def _network(series: dict[Any, _Series]) -> NetworkStats:
    codes = {c: int(_total(series, _key(status_metric(c), "Sum"))) for c in STATUS_CLASSES}
    samples = _total(series, _key(METRIC_LATENCY, "SampleCount"))
    latency = _total(series, _key(METRIC_LATENCY, "Sum")) / samples if samples else None
    return NetworkStats(
        latency_ms=latency,
        code_2xx=codes["2XX"],
        code_4xx=codes["4XX"],
        code_5xx=codes["5XX"],
        total=sum(codes.values()),
    )


def _tracker(series: dict[Any, _Series]) -> TrackerStats | None:
    classes = {
        key[2]: int(s.total()) for key, s in series.items() if key[0] == METRIC_CLASS and key[2]
    }
    if classes:
        return TrackerStats("classification", class_distribution=dict(sorted(classes.items())))
    count = int(_total(series, _key(METRIC_VALUE, "SampleCount")))
    if not count:
        return None
    low = series.get(_key(METRIC_VALUE, "Minimum"))
    high = series.get(_key(METRIC_VALUE, "Maximum"))
    return TrackerStats(
        "regression",
        regression_stats=RegressionStats(
            min=min(low.values.values()) if low else None,
            max=max(high.values.values()) if high else None,
            avg=_total(series, _key(METRIC_VALUE, "Sum")) / count,
            sample_count=count,
        ),
    )


def _points(series: dict[Any, _Series]) -> tuple[MetricsPoint, ...]:
    times = sorted({t for s in series.values() for t in s.values})
    points = []
    for t in times:
        codes = {c: int(_at(series, _key(status_metric(c), "Sum"), t)) for c in STATUS_CLASSES}
        samples = _at(series, _key(METRIC_LATENCY, "SampleCount"), t)
        latency = _at(series, _key(METRIC_LATENCY, "Sum"), t) / samples if samples else None
        replicas = int(_at(series, _key(METRIC_REPLICAS, "Sum"), t))
        points.append(MetricsPoint(
            t=t + 60,  # the end of the minute: the point describes the minute before it
            requested=replicas,
            ready=replicas,
            request_rate=sum(codes.values()) / 60.0,
            latency_ms=latency,
            code_2xx=codes["2XX"],
            code_4xx=codes["4XX"],
            code_5xx=codes["5XX"],
        ))
    return tuple(points)


def _at(series: dict[Any, _Series], key: tuple[str, str, str | None], t: float) -> float:
    found = series.get(key)
    return found.values.get(t, 0.0) if found else 0.0


def combine(live: Metrics, history: Metrics, since: float | None = None) -> Metrics:
    """CloudWatch's totals (they survive pods) with the live points; on a first fetch
    (`since` None) CloudWatch's per-minute points come first, for the time before the live
    series starts. Incremental fetches get live points only, so a series never goes back."""
    points = list(live.points)
    if since is None:
        first = min((p.t for p in live.points), default=float("inf"))
        points = [p for p in history.points if p.t < first] + points
    network, tracker = best_totals((live.network, live.tracker),
                                   (history.network, history.tracker))
    return Metrics(api=live.api, points=tuple(points), network=network, tracker=tracker)


Totals = tuple[NetworkStats, TrackerStats | None]


def best_totals(live: Totals, history: Totals) -> Totals:
    """CloudWatch's totals unless they count fewer requests than the live replicas report:
    data still buffered in replicas, or metrics CloudWatch has not listed yet (ListMetrics can
    lag minutes behind a new API), must not make the totals go down."""
    if history[0].total >= live[0].total:
        return history[0], _with_live_histogram(history[1], live[1])
    return live


def _with_live_histogram(history: TrackerStats | None, live: TrackerStats | None
                         ) -> TrackerStats | None:
    """CloudWatch keeps min / max / avg / count of regression values, not their histogram:
    the live replicas' histogram stays (it covers their lifetime, the rest all history)."""
    if history is None:
        return live
    stats, live_stats = history.regression_stats, live.regression_stats if live else None
    if stats is None or stats.histogram or live_stats is None or not live_stats.histogram:
        return history
    return replace(history, regression_stats=replace(stats, histogram=live_stats.histogram))


def read_metrics(aws: AwsSettings, api: str, since: float | None = None) -> Metrics:
    return CloudWatchReader(aws).metrics(api, since)


def read_totals(aws: AwsSettings, api: str) -> tuple[NetworkStats, TrackerStats | None]:
    return CloudWatchReader(aws).totals(api)


__all__ = ["CloudWatchReader", "combine", "read_metrics", "read_totals"]
