"""The summary of a load test as text (the CLI's table; the TUI shows the same lines)."""

from __future__ import annotations

from cortex_tui.loadtest.run import RunRecord

STATUS_LABELS = (("2xx", "2XX"), ("4xx", "4XX"), ("5xx", "5XX"),
                 ("503+retry-after", "503 Retry-After"), ("error", "no answer"))


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def summary_lines(record: RunRecord) -> list[tuple[str, str]]:
    """(label, text) rows: count, rate, latency, status counts, errors, replicas."""
    data = record.summary()
    lat = data["latency_ms"]
    ended = "stopped after" if record.stopped else "in"
    rows = [
        ("api", f"{record.api} on {record.target} via {record.via or '-'}"),
        ("load", f"{record.spec.describe()}; samples: {record.samples}"),
        ("requests", f"{data['requests']} {ended} {data['elapsed_s']:.1f} s "
                     f"({data['requests_per_s']:.1f}/s)"),
        ("latency", "  ".join(f"{k} {ms(lat[k])}" for k in ("p50", "p90", "p99", "p99.9",
                                                             "max", "mean"))),
        ("status", "  ".join(f"{label} {data['codes'][key]}" for key, label in STATUS_LABELS)),
        ("errors", f"{data['errors']} ({100 * data['error_rate']:.2f} %)"),
    ]
    rows += [("", f"{m['count']} x {m['message']}") for m in data["messages"][:10]]
    if data["cancelled"]:
        rows.append(("", f"{data['cancelled']} in flight when stopped (not counted)"))
    reached = data["replicas"]
    if reached:
        rows.append(("replicas", f"requested up to {reached['max_requested']}, ready up to "
                                 f"{reached['max_ready']}, ready at the end "
                                 f"{reached['final_ready']}"))
    if record.decisions:
        rows.append(("autoscaler", f"{len(record.decisions)} decisions: "
                     + "; ".join(f"{d.t:.0f}s {d.message}" for d in record.decisions[:5])))
    if record.id is not None:
        rows.append(("saved", f"run {record.id}"))
    return rows


def render_table(record: RunRecord) -> str:
    rows = summary_lines(record)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {text}".rstrip() for label, text in rows)
