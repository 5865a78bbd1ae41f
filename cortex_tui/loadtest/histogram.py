"""Latency histograms: HdrHistogram (the `hdrhistogram` package) in microseconds, 3 significant
digits from 1 µs to a minute (twice the request timeout); encoded (compressed, base64) to cross
processes and to be saved."""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 60_000_000
DIGITS = 3
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def decode(encoded: str) -> HdrHistogram:
    histogram = new()
    if encoded:
        histogram.decode_and_add(encoded)
    return histogram


def percentiles_ms(histogram: HdrHistogram, full: bool = True) -> dict[str, float | None]:
    """p50 / p90 / p99 / p99.9 (and with `full` max / mean) in ms; None when nothing was
    recorded. Without `full` it is one pass over the counts (a few ms): the per-second ticks."""
    keys = [f"p{p:g}" for p in PERCENTILES] + (["max", "mean"] if full else [])
    if histogram.get_total_count() == 0:
        return dict.fromkeys(keys)
    found = histogram.get_percentile_to_value_dict(list(PERCENTILES))
    values: dict[str, float | None] = {f"p{p:g}": found[p] / 1000 for p in PERCENTILES}
    if full:
        values["max"] = histogram.get_max_value() / 1000
        values["mean"] = round(histogram.get_mean_value() / 1000, 3)
    return values
