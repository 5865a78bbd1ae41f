"""Publish a replica's prediction metrics to CloudWatch, off the request path.

On when the replica's environment has `CORTEX_CLOUDWATCH_NAMESPACE` (region from `AWS_REGION`
or `AWS_DEFAULT_REGION`, endpoint from `CORTEX_CLOUDWATCH_ENDPOINT` for tests, flush period
from `CORTEX_CLOUDWATCH_FLUSH_SECONDS`, default 5). Credentials: boto3's usual chain.

`observe()` (called once per finished request) only appends to a deque (no lock). A background
thread folds those into per-minute statistic sets every second, in bulk, and sends them with
PutMetricData at most every flush period, in batches within the service's limits. When
CloudWatch fails or is slow, predictions do not notice: the data is kept and retried, and
whatever finally cannot be sent is logged with counts.

The metric schema below is shared with `cortex_tui.aws.cloudwatch_reader`, which reads it back.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

# A child of the replica's logger (predictor.logs), so lines carry the replica name.
log = logging.getLogger("cortex.predictor.cloudwatch")

# --- the replica's environment (set by the Kubernetes template when CloudWatch is on) ---
ENV_NAMESPACE = "CORTEX_CLOUDWATCH_NAMESPACE"
ENV_ENDPOINT = "CORTEX_CLOUDWATCH_ENDPOINT"
ENV_FLUSH_SECONDS = "CORTEX_CLOUDWATCH_FLUSH_SECONDS"
ENV_CLOSE_SECONDS = "CORTEX_CLOUDWATCH_CLOSE_SECONDS"  # the last send's budget at shutdown [5]
ENV_REGION = "AWS_REGION"

# --- the metric schema (one source of truth, imported by the reader) ---
DIM_API = "API"
DIM_DEPLOYMENT = "Deployment"
DIM_CLASS = "Class"
METRIC_LATENCY = "Latency"  # Milliseconds, statistic sets: SampleCount = requests
METRIC_CLASS = "PredictedClass"  # Count per class, dimension Class
METRIC_VALUE = "PredictedValue"  # regression values, statistic sets
METRIC_REPLICAS = "Replicas"  # 1 per running replica per minute: Sum = replicas that minute
STATUS_CLASSES = ("2XX", "4XX", "5XX")


def status_metric(status_class: str) -> str:
    """`StatusCode2XX` etc.: the request count of one status class."""
    return f"StatusCode{status_class}"


# PutMetricData limits: 1000 data items and 1 MB per request; stay well under the size.
MAX_ITEMS_PER_CALL = 1000
MAX_BYTES_PER_CALL = 512 * 1024
# Distinct classes tracked per replica: more would be unbounded cost, they become OTHER_CLASS.
MAX_CLASSES = 200
OTHER_CLASS = "(other)"
# Data not sent after this long (or beyond this many buckets) is dropped, and logged.
MAX_RETRY_AGE_S = 3600.0
MAX_PENDING_ITEMS = 20_000
BUCKET_S = 60  # CloudWatch's standard resolution

# Raw observations wait at most this long before being folded into statistic sets, and at
# most this many (a send stuck on a slow CloudWatch makes the request path fold them).
DRAIN_S = 1.0
MAX_RAW = 50_000

Key = tuple[int, str, tuple[tuple[str, str], ...], str]  # (bucket start, metric, dims, unit)
Observation = tuple[float, Any, Any, Any]  # (time, status, latency_ms, tracked)


def _minute(observation: Observation) -> int:
    return int(observation[0]) // BUCKET_S * BUCKET_S


def _number(value: Any) -> float | None:
    """A regression value, or None when it is not a finite number (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(slots=True)
class _Stat:
    count: float = 0.0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    requests: int = 0  # requests this datum accounts for (for loss reports)

    def add_many(self, count: float, total: float, low: float, high: float) -> None:
        self.count += count
        self.total += total
        if low < self.low:
            self.low = low
        if high > self.high:
            self.high = high

    def merge(self, other: _Stat) -> None:
        self.count += other.count
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        self.requests += other.requests


_STATUS_METRICS = {c: status_metric(c) for c in STATUS_CLASSES}
_CLASS_OF_CODE = {code: f"{code // 100}XX" for code in range(100, 600)}


def status_class(status: int | str) -> str:
    """200 -> "2XX"; "5xx" -> "5XX"."""
    if isinstance(status, int) and status in _CLASS_OF_CODE:
        return _CLASS_OF_CODE[status]
    text = str(status).upper()
    return f"{text[0]}XX" if text[:1].isdigit() else text


class CloudWatchPublisher:
    """Buffer per-request observations and flush them to CloudWatch from a daemon thread."""

    def __init__(
        self,
        namespace: str,
        api: str,
        *,
        deployment: str | None = None,
        model_type: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        flush_seconds: float = 5.0,
        close_seconds: float = 5.0,
        clock: Any = time.time,
    ) -> None:
        self.namespace = namespace
        self.close_seconds = close_seconds
        self.model_type = model_type
        self.flush_seconds = flush_seconds
        self._dims: tuple[tuple[str, str], ...] = ((DIM_API, api),)
        if deployment:
            self._dims += ((DIM_DEPLOYMENT, deployment),)
        self._region = region
        self._endpoint_url = endpoint_url
        self._clock = clock
        self._lock = threading.Lock()
        self._buffer: dict[Key, _Stat] = {}
        self._raw: deque[Observation] = deque()  # appended per request, drained in bulk
        self._heartbeat_minute = -1
        self._sending: dict[int, list[_Stat]] = {}  # taken from the buffer by flushes under way
        self._classes: set[str] = set()
        self._client: Any = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        self._failing_since: float | None = None
        self._last_failure_log = 0.0
        self.sent_items = 0  # data items accepted by CloudWatch (for tests and /stats)
        self.sent_calls = 0

    # --- the request path: one append, no lock, never raises ---

    def observe(self, status: int | str, latency_ms: float | None, tracked: Any = None) -> None:
        """Record one finished request: its status (code or class), latency and tracked value.
        Aggregation happens later, in bulk, on the publisher's thread."""
        self._raw.append((self._clock(), status, latency_ms, tracked))  # deque: thread-safe
        if len(self._raw) >= MAX_RAW:  # the thread is stuck in a slow send: keep memory flat
            self._drain()
        if self._thread is None:
            self.start()

    def _drain(self) -> None:
        """Fold the raw observations into per-minute statistic sets."""
        with self._lock:
            raw = self._raw
            # popleft is atomic, so an append racing with this drain waits for the next one
            items = [raw.popleft() for _ in range(len(raw))]
            try:
                if items and _minute(items[0]) == _minute(items[-1]):
                    self._aggregate(_minute(items[0]), items)  # the usual case: one minute
                else:
                    for bucket, group in groupby(items, key=_minute):
                        self._aggregate(bucket, list(group))
            except Exception:  # a metrics bug must never reach a prediction
                log.exception("cloudwatch: could not aggregate %d requests", len(items))

    def _aggregate(self, bucket: int, items: list[Observation]) -> None:
        """One minute of observations (lock held); per-item work stays in C builtins."""
        _times, statuses, latencies, tracked = zip(*items, strict=True)
        by_status = Counter(statuses)
        by_class: Counter[str] = Counter()
        for status, n in by_status.items():
            by_class[status_class(status)] += n
        for klass, n in by_class.items():
            stat = self._stat(bucket, _STATUS_METRICS.get(klass) or status_metric(klass), (),
                              "Count")
            stat.add_many(n, float(n), 1.0, 1.0)
            stat.requests += n
        timed = [x for x in latencies if x is not None]
        if timed:
            self._stat(bucket, METRIC_LATENCY, (), "Milliseconds").add_many(
                len(timed), float(math.fsum(timed)), float(min(timed)), float(max(timed))
            )
        if self.model_type is not None:
            ok = {s for s in by_status if status_class(s) == "2XX"}
            values = [v for s, v in zip(statuses, tracked, strict=True)
                      if v is not None and s in ok]
            if values:
                self._track(bucket, values)

    def _track(self, bucket: int, values: list[Any]) -> None:
        if self.model_type == "classification":
            for value, n in Counter(map(str, values)).items():
                name = value or "(empty)"
                if name not in self._classes:
                    if len(self._classes) >= MAX_CLASSES:
                        name = OTHER_CLASS
                    self._classes.add(name)
                extra = ((DIM_CLASS, name[:1024]),)
                self._stat(bucket, METRIC_CLASS, extra, "Count").add_many(n, float(n), 1.0, 1.0)
        elif self.model_type == "regression":
            numbers = [f for f in map(_number, values) if f is not None]
            if numbers:
                self._stat(bucket, METRIC_VALUE, (), "None").add_many(
                    len(numbers), math.fsum(numbers), min(numbers), max(numbers)
                )

    def _stat(self, bucket: int, metric: str, extra: tuple[tuple[str, str], ...],
              unit: str) -> _Stat:
        key = (bucket, metric, self._dims + extra, unit)
        stat = self._buffer.get(key)
        if stat is None:
            stat = self._buffer[key] = _Stat()
        return stat

    # --- the background side ---

    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._run, name="cloudwatch-publisher", daemon=True
            )
        self._thread.start()

    def _run(self) -> None:
        try:  # boto3's import and client build cost ~0.3 s of CPU: pay it now, not mid-traffic
            self._get_client()
        except Exception as exc:  # reported with counts when a send fails
            log.warning("cloudwatch: cannot create the CloudWatch client yet: %s", exc)
        next_send = time.monotonic() + self.flush_seconds
        while not self._closed:
            self._heartbeat()
            wait = min(DRAIN_S, next_send - time.monotonic())
            self._wake.wait(max(wait, 0.01))
            if self._closed:
                return
            if time.monotonic() >= next_send:
                self.flush()
                next_send = time.monotonic() + self.flush_seconds
            else:
                self._drain()

    def _heartbeat(self) -> None:
        """Count this replica once per minute, traffic or not: history of the replica count."""
        minute = int(self._clock()) // BUCKET_S * BUCKET_S
        if minute == self._heartbeat_minute:
            return
        with self._lock:
            self._stat(minute, METRIC_REPLICAS, (), "Count").add_many(1, 1.0, 1.0, 1.0)
        self._heartbeat_minute = minute

    def flush(self) -> bool:
        """Send everything buffered now; True when nothing is left unsent."""
        self._drain()
        with self._lock:
            pending, self._buffer = self._buffer, {}
            sending = list(pending.values())
            self._sending[id(sending)] = sending
        if not pending:
            return True
        try:
            return self._send(sorted(pending.items()))
        finally:
            with self._lock:
                del self._sending[id(sending)]

    def _send(self, items: list[tuple[Key, _Stat]]) -> bool:
        failed: list[tuple[Key, _Stat]] = []
        error: Exception | None = None
        for batch in _batches(items):
            if error is not None:
                failed.extend(batch)
                continue
            try:
                self._put(batch)
            except Exception as exc:  # any failure: keep the data, report it below
                error = exc
                failed.extend(batch)
        if error is None:
            self._recovered()
            return True
        self._keep_for_retry(failed, error)
        return False

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread and make a last attempt to send; log what is lost."""
        timeout = self.close_seconds if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        sender = threading.Thread(target=self._final_flush, daemon=True)
        sender.start()
        sender.join(max(deadline - time.monotonic(), 0.1))
        self._drain()
        with self._lock:  # still buffered, or still on its way when time ran out
            in_flight = [stat for batch in self._sending.values() for stat in batch]
            lost = [*self._buffer.values(), *in_flight]
            self._buffer = {}
        if lost:
            items, requests = len(lost), _requests(lost)
            log.error(
                "cloudwatch: %d metric data items (covering %d requests) were never sent to "
                "namespace %s and are lost",
                items, requests, self.namespace,
            )

    def _final_flush(self) -> None:
        self.flush()

    def _put(self, batch: list[tuple[Key, _Stat]]) -> None:
        client = self._get_client()
        client.put_metric_data(
            Namespace=self.namespace, MetricData=[_datum(k, s) for k, s in batch]
        )
        self.sent_items += len(batch)
        self.sent_calls += 1

    def _get_client(self) -> Any:
        if self._client is None:
            import boto3  # imported here: replicas without CloudWatch never pay for it
            from botocore.config import Config

            config = Config(
                connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}
            )
            self._client = boto3.session.Session(region_name=self._region).client(
                "cloudwatch", endpoint_url=self._endpoint_url, config=config
            )
        return self._client

    def _keep_for_retry(self, failed: list[tuple[Key, _Stat]], error: Exception) -> None:
        now = self._clock()
        kept: dict[Key, _Stat] = {}
        dropped: list[_Stat] = []
        rejected = _rejected(error)
        for key, stat in failed:
            if rejected or now - key[0] > MAX_RETRY_AGE_S:
                dropped.append(stat)
            else:
                kept[key] = stat
        with self._lock:
            for key, stat in kept.items():
                existing = self._buffer.get(key)
                if existing is None:
                    self._buffer[key] = stat
                else:
                    existing.merge(stat)
            dropped.extend(self._trim())
            waiting, waiting_requests = len(self._buffer), _requests(self._buffer.values())
        if self._failing_since is None:
            self._failing_since = now
        if dropped:
            log.error(
                "cloudwatch: dropped %d metric data items (covering %d requests) that could not "
                "be sent to namespace %s: %s",
                len(dropped), _requests(dropped), self.namespace, _describe(error),
            )
        if now - self._last_failure_log >= 60 or self._last_failure_log == 0:
            self._last_failure_log = now
            log.warning(
                "cloudwatch: PutMetricData to namespace %s failed (%s); %d data items covering "
                "%d requests kept for retry",
                self.namespace, _describe(error), waiting, waiting_requests,
            )

    def _trim(self) -> list[_Stat]:
        """Oldest buckets beyond MAX_PENDING_ITEMS (called with the lock held)."""
        excess = len(self._buffer) - MAX_PENDING_ITEMS
        if excess <= 0:
            return []
        oldest = sorted(self._buffer)[:excess]
        return [self._buffer.pop(key) for key in oldest]

    def _recovered(self) -> None:
        if self._failing_since is not None:
            log.warning(
                "cloudwatch: sending to namespace %s works again (failed for %.0f s)",
                self.namespace, self._clock() - self._failing_since,
            )
            self._failing_since = None
            self._last_failure_log = 0.0


def _datum(key: Key, stat: _Stat) -> dict[str, Any]:
    bucket, metric, dims, unit = key
    return {
        "MetricName": metric,
        "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
        "Timestamp": bucket,
        "Unit": unit,
        "StatisticValues": {
            "SampleCount": stat.count,
            "Sum": stat.total,
            "Minimum": stat.low,
            "Maximum": stat.high,
        },
    }


def _size(key: Key) -> int:
    """A generous estimate of one datum's encoded size."""
    return 200 + len(key[1]) + sum(len(n) + len(v) + 40 for n, v in key[2])


def _batches(items: list[tuple[Key, _Stat]]) -> list[list[tuple[Key, _Stat]]]:
    batches: list[list[tuple[Key, _Stat]]] = [[]]
    size = 0
    for item in items:
        item_size = _size(item[0])
        if len(batches[-1]) >= MAX_ITEMS_PER_CALL or size + item_size > MAX_BYTES_PER_CALL:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += item_size
    return [b for b in batches if b]


def _requests(stats: Any) -> int:
    return sum(s.requests for s in stats)


def _rejected(error: Exception) -> bool:
    """CloudWatch refused the data itself (400, not throttling): retrying cannot help.
    Auth errors (403) are retried: credentials may be fixed or refreshed meanwhile."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = str(response.get("Error", {}).get("Code", ""))
    return int(status) == 400 and "Throttl" not in code


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def from_environ(
    api: str,
    *,
    deployment: str | None = None,
    model_type: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> CloudWatchPublisher | None:
    """A publisher when `CORTEX_CLOUDWATCH_NAMESPACE` is set, else None."""
    namespace = environ.get(ENV_NAMESPACE, "").strip()
    if not namespace:
        return None
    flush = _seconds(environ, ENV_FLUSH_SECONDS, 5.0)
    close = _seconds(environ, ENV_CLOSE_SECONDS, 5.0)
    publisher = CloudWatchPublisher(
        namespace,
        api,
        deployment=deployment,
        model_type=model_type,
        region=environ.get(ENV_REGION) or environ.get("AWS_DEFAULT_REGION") or None,
        endpoint_url=environ.get(ENV_ENDPOINT) or None,
        flush_seconds=max(flush, 0.1),
        close_seconds=max(close, 0.1),
    )
    publisher.start()  # counts the replica from now on, even before its first request
    log.info("cloudwatch: publishing metrics of api %s to namespace %s", api, namespace)
    return publisher


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(environ.get(name) or default)
    except ValueError:
        log.warning("cloudwatch: %s=%r is not a number, using %s", name, environ[name], default)
        return default
