"""Request and prediction statistics, counted with plain ints in the request path.

`RequestStats.record` / `ok` and `Tracker.observe` are the only hot-path calls; everything
else (the /stats JSON, the Prometheus collector) reads these counters at scrape time, after
`RequestStats.fold()` has binned the latencies of the successes noted since the last read.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from typing import Any

from cortex_tui.config import stats_keys as K
from predictor.logs import log, truncate

# Upper bounds (inclusive) in seconds; one more bucket holds everything above.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    20.0, 30.0, 60.0,  # up to Sanic's default response timeout (60 s): slow models stay visible
)


STEPS_PER_DECADE = ("1", "1.5", "2", "3", "5", "7")
# The buckets Prometheus gets: the 1-2-5 steps of each decade (cumulative counts at a subset of
# the bounds are exact), so one regression tracker is 80 bucket series per replica, not 158.
PROM_STEPS_PER_DECADE = ("1", "2", "5")


def _symmetric_log_steps(steps: tuple[str, ...], low_exp: int, high_exp: int) -> tuple[float, ...]:
    """-7e9 .. -1e-3, 0, 1e-3 .. 7e9 (for the default steps and exponents -3 .. 9)."""
    positive = [float(f"{m}e{e}") for e in range(low_exp, high_exp + 1) for m in steps]
    return tuple([-v for v in reversed(positive)] + [0.0] + positive)


# Fixed regression buckets, six per decade, then +inf.
REGRESSION_BOUNDS = _symmetric_log_steps(STEPS_PER_DECADE, -3, 9)
PROM_REGRESSION_BOUNDS = _symmetric_log_steps(PROM_STEPS_PER_DECADE, -3, 9)
MAX_CLASSES = 1000
MAX_LABEL_CHARS = 64  # a longer class is cut to this many characters, ending in TRUNCATED_MARK
TRUNCATED_MARK = "…"
WARN_WINDOW_S = 10.0  # at most WARN_BURST warning lines per window; the rest are counted
WARN_BURST = 10


_PLAIN = frozenset((str, int, float, bool, dict, list, type(None)))


def _python_scalar(value: Any) -> Any:
    """A numpy scalar (or 0-d array) as the Python value the response carries; else as is."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None and getattr(value, "ndim", None) == 0:
        try:
            return tolist()
        except Exception:
            return value
    return value


FOLD_AT = 1024  # successes noted before they are binned without a reader asking


class RequestStats:
    """Status-class counts and a latency histogram for requests on the serving port.

    Read `codes` and the latency fields only after `fold()`.
    """

    __slots__ = ("_ok", "codes", "latency_buckets", "latency_count", "latency_sum", "started")

    def __init__(self) -> None:
        self.started = time.time()
        self.codes = [0, 0, 0, 0, 0, 0]  # index = status // 100
        self.latency_buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self._ok: list[float] = []  # latencies of 200s not yet binned

    def ok(self, latency: float) -> None:
        """A 200 answered in `latency` seconds: noted now, binned at the next read."""
        pending = self._ok
        pending.append(latency)
        if len(pending) >= FOLD_AT:
            self.fold()

    def fold(self) -> None:
        """Bin the noted successes: the counters are exact after this."""
        pending, self._ok = self._ok, []
        if not pending:
            return
        buckets = self.latency_buckets
        for latency in pending:
            buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
        self.codes[2] += len(pending)
        self.latency_sum += sum(pending)
        self.latency_count += len(pending)

    def record(self, status: int, latency: float) -> None:
        self.codes[status // 100] += 1
        self.latency_buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
        self.latency_sum += latency
        self.latency_count += 1

    def record_status(self, status: int) -> None:
        """A request refused before our handler ran (404, 405, 413...): no latency."""
        self.codes[min(status // 100, 5)] += 1

    def network_stats(self) -> dict[str, Any]:
        self.fold()
        c = self.codes
        return {
            K.LATENCY_MS: None if not self.latency_count
            else round(1000.0 * self.latency_sum / self.latency_count, 3),
            K.CODE_2XX: c[2],
            K.CODE_4XX: c[4],
            K.CODE_5XX: c[5],
            K.TOTAL: sum(c),
        }


class Tracker:
    """SPEC §5: extract the tracked value of a successful prediction and count it."""

    __slots__ = (
        "_suppressed",
        "_warn_window",
        "_warned",
        "classes",
        "key",
        "model_type",
        "reg_buckets",
        "reg_count",
        "reg_max",
        "reg_min",
        "reg_sum",
        "rejected",
        "truncated",
    )

    def __init__(self, model_type: str, key: str | None) -> None:
        self.model_type = model_type
        self.key = key
        self.classes: dict[str, int] = {}
        self.reg_buckets = [0] * (len(REGRESSION_BOUNDS) + 1)
        self.reg_count = 0
        self.reg_sum = 0.0
        self.reg_min = math.inf
        self.reg_max = -math.inf
        self.rejected = 0
        self.truncated = 0  # classes longer than MAX_LABEL_CHARS, tracked cut
        self._warn_window = -math.inf
        self._warned = 0
        self._suppressed = 0

    def observe(self, response: Any) -> Any:
        """Count the tracked value; returns it (str class / float) or None when unfit."""
        key = self.key
        if key is None:
            value = response
        elif type(response) is dict and key in response:  # the common case, checked first
            value = response[key]
        elif not isinstance(response, dict):
            return self._reject(response, f"response is not an object with key {key!r}")
        elif key not in response:
            return self._reject(response, f"response has no key {key!r}")
        else:
            value = response[key]
        if self.model_type == "classification":
            t = type(value)
            if t is str or t is int:  # the common case: count it here
                label = value if t is str else str(value)
                counts = self.classes
                count = counts.get(label)
                if count is not None:
                    counts[label] = count + 1
                    return label
        if type(value) not in _PLAIN:
            value = _python_scalar(value)
        if self.model_type == "classification":
            return self._classify(value)
        return self._regress(value)

    def _classify(self, value: Any) -> Any:
        t = type(value)
        if t is not str and (t is bool or not isinstance(value, (str, int))):
            return self._reject(value, "classification tracks str or int values")
        label = value if t is str else str(value)
        if len(label) > MAX_LABEL_CHARS:
            self.truncated += 1
            self._warn(value, f"class longer than {MAX_LABEL_CHARS} characters, tracked cut")
            label = label[: MAX_LABEL_CHARS - len(TRUNCATED_MARK)] + TRUNCATED_MARK
        counts = self.classes
        if label in counts:
            counts[label] += 1
        elif len(counts) < MAX_CLASSES:
            counts[label] = 1
        else:
            return self._reject(value, f"more than {MAX_CLASSES} distinct classes")
        return label

    def _regress(self, value: Any) -> Any:
        if type(value) is bool or not isinstance(value, (int, float)):
            return self._reject(value, "regression tracks int or float values")
        try:
            number = float(value)
        except OverflowError:
            return self._reject(value, "value too large")
        if not math.isfinite(number):
            return self._reject(value, "value is not finite")
        total = self.reg_sum + number
        if not math.isfinite(total):  # /stats' avg and Prometheus' _sum must stay numbers
            return self._reject(value, "the sum of tracked values would overflow")
        self.reg_buckets[bisect_left(REGRESSION_BOUNDS, number)] += 1
        self.reg_count += 1
        self.reg_sum = total
        if number < self.reg_min:
            self.reg_min = number
        if number > self.reg_max:
            self.reg_max = number
        return number

    def _reject(self, value: Any, reason: str) -> None:
        self.rejected += 1
        self._warn(value, f"value not tracked: {reason}")

    def _warn(self, value: Any, what: str) -> None:
        """One warning line per event (at most WARN_BURST per window, then counted)."""
        now = time.monotonic()
        if now - self._warn_window >= WARN_WINDOW_S:
            self._warn_window, self._warned = now, 0
        if self._warned >= WARN_BURST:
            self._suppressed += 1
            return
        self._warned += 1
        more = f" ({self._suppressed} similar warnings suppressed)" if self._suppressed else ""
        self._suppressed = 0
        log.warning(
            "tracker: %s (got %s: %s)%s", what, type(value).__name__, truncate(repr(value), 200),
            more,
        )

    def class_distribution(self) -> dict[str, int] | None:
        return dict(self.classes) if self.model_type == "classification" else None

    def regression_stats(self) -> dict[str, Any] | None:
        if self.model_type != "regression":
            return None
        n = self.reg_count
        return {
            K.MIN: self.reg_min if n else None,
            K.MAX: self.reg_max if n else None,
            K.AVG: self.reg_sum / n if n else None,
            K.SAMPLE_COUNT: n,
            K.HISTOGRAM: trimmed_histogram(REGRESSION_BOUNDS, self.reg_buckets),
        }


def trimmed_histogram(bounds: tuple[float, ...], counts: list[int]) -> list[list[Any]]:
    """Per-bucket counts `[upper_bound, count]` (upper bound inclusive, None = +inf).

    Empty buckets before the first and after the last non-empty one are left out, except one
    empty bucket just below the first non-empty one, whose upper bound is the lower edge.
    """
    filled = [i for i, c in enumerate(counts) if c]
    if not filled:
        return []
    first, last = max(filled[0] - 1, 0), filled[-1]
    edges: list[float | None] = [*bounds, None]
    return [[edges[i], counts[i]] for i in range(first, last + 1)]
