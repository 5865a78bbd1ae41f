"""`cortex-tui get [API] [-e ENV] [-w] [-o table|json]`: status of the deployed APIs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from cortex_tui.backends import Backend, get_backend
from cortex_tui.cli import add_env_option
from cortex_tui.formats import age, format_memory
from cortex_tui.types import ApiState

WATCH_PERIOD = 2.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "get",
        help="show the status of every API, or the details of one",
        description="Without API: one line per API. With API: its details, network stats, "
        "tracker values and endpoint.",
    )
    parser.add_argument("api", nargs="?", metavar="API", help="the API to describe")
    add_env_option(parser)
    parser.add_argument("-w", "--watch", action="store_true", help="refresh until Ctrl-C")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table",
                        help="table (default) or json (a list; one object when API is given)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = get_backend(args.env)
    try:
        if not args.watch:
            print(render(backend, args.api, args.output))
            return 0
        try:
            while True:
                text = render(backend, args.api, args.output)
                if sys.stdout.isatty():
                    sys.stdout.write("\x1b[H\x1b[2J")
                print(text, flush=True)
                time.sleep(WATCH_PERIOD)
        except KeyboardInterrupt:
            return 0
    finally:
        backend.close()


def render(backend: Backend, api: str | None, output: str) -> str:
    states = backend.get(api)
    if output == "json":
        data: Any = states[0].to_json() if api else [s.to_json() for s in states]
        return json.dumps(data, indent=2)
    if api:
        return describe(states[0])
    if not states:
        return "no apis are deployed"
    return table(states)


def ago(t: float | None, now: float | None = None) -> str:
    return age(None if t is None else (now or time.time()) - t)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["   ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [header, *rows]]
    return "\n".join(lines)


def table(states: list[ApiState]) -> str:
    header = ["api", "status", "up-to-date", "available", "requested", "last update"]
    with_failed = any(s.failed for s in states)
    if with_failed:
        header.append("failed")
    rows = []
    for s in states:
        row = [s.name, str(s.status), str(s.up_to_date), str(s.available), str(s.requested),
               ago(s.last_update)]
        if with_failed:
            row.append(str(s.failed))
        rows.append(row)
    return format_table(header, rows)


def describe(s: ApiState) -> str:
    parts = [table([s])]
    if s.message:
        parts.append(f"\n{s.status}: {s.message}")
    net = s.network
    latency = "-" if net.latency_ms is None else f"{net.latency_ms:.3g} ms"
    parts.append("\n" + format_table(
        ["avg latency", "2XX", "4XX", "5XX"],
        [[latency, str(net.code_2xx), str(net.code_4xx), str(net.code_5xx)]]))
    parts.append("\n" + autoscaling_line(s))
    if s.decision is not None:
        parts.append(f"last decision: {s.decision.summary()} ({ago(s.decision.t)} ago)")
    if s.cold_start is not None:
        parts.append(f"cold start: {s.cold_start.summary()}")
    gpus = gpu_lines(s)
    if gpus:
        parts.append("\n" + gpus)
    tracker = tracker_table(s)
    if tracker:
        parts.append("\n" + tracker)
    if s.signature:
        parts.append("\n" + signature_table(s.signature))
    parts.append(f"\nendpoint: {s.endpoint or '-'}")
    return "\n".join(parts)


def signature_table(signature: Mapping[str, Any]) -> str:
    """The model's inputs: name, shape (`?` for any size) and type."""
    def dims(shape: Any) -> str:
        return "[" + ", ".join("?" if d is None else str(d) for d in shape or ()) + "]"

    return format_table(["input", "shape", "type"],
                        [[name, dims(i.get("shape")), str(i.get("type"))]
                         for name, i in signature.items()])


def gpu_lines(s: ApiState) -> str:
    """The GPU devices each replica holds, with their load (local target)."""
    rows = []
    for r in s.replicas:
        if not r.gpus:
            continue
        busy = "-" if r.gpu_utilization is None else f"{r.gpu_utilization:.0f}%"
        used = "-" if r.gpu_memory_used is None else format_memory(r.gpu_memory_used)
        rows.append([r.name, ",".join(map(str, r.gpus)), busy, used])
    if not rows:
        return ""
    return format_table(["replica", "gpus", "gpu busy", "gpu memory used"], rows)


def autoscaling_line(s: ApiState) -> str:
    if s.autoscale_on == "in_flight":
        target = "-" if s.target_in_flight is None else f"{s.target_in_flight:g}"
        return (f"autoscaling: in-flight, min {s.min_replicas}, max {s.max_replicas}, "
                f"target {target} per replica")
    return (f"autoscaling: min {s.min_replicas}, max {s.max_replicas}, "
            f"target cpu {s.target_cpu_utilization}%")


def tracker_table(s: ApiState) -> str:
    tracker = s.tracker
    if tracker is None:
        return ""
    if tracker.model_type == "classification":
        dist = tracker.class_distribution or {}
        if not dist:
            return "class   count\n(no predictions yet)"
        return format_table(["class", "count"], [[k, str(v)] for k, v in dist.items()])
    reg = tracker.regression_stats
    if reg is None or not reg.sample_count:
        return "regression: no predictions yet"

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.4g}"

    text = format_table(["min", "max", "avg", "count"],
                        [[num(reg.min), num(reg.max), num(reg.avg), str(reg.sample_count)]])
    if reg.histogram:
        rows = [[f"<= {num(b)}" if b != float("inf") else "> last", str(c)]
                for b, c in reg.histogram if c]
        text += "\n\n" + format_table(["bucket", "count"], rows)
    return text
