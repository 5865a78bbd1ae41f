"""`cortex-tui bench API [--samples FILE] [--profile P] [-c N | --rate R] [-d DURATION]
[-o table|json] [--max-error-rate F]`: load-test a deployed API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option, add_project_option
from cortex_tui.errors import BackendError
from cortex_tui.loadtest import spec as S
from cortex_tui.loadtest.report import ms, render_table
from cortex_tui.loadtest.run import LoadTest, RunRecord
from cortex_tui.loadtest.samples import SampleError, load_samples, project_sample
from cortex_tui.loadtest.store import RunStore


def _bounded(kind: Callable[[str], Any], low: float, high: float,
             what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}: not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what}: must be {low:g}..{high:g} (got {text})")
        return value
    return parse


def _duration(text: str) -> float:
    try:
        seconds = S.parse_duration(text)
    except S.LoadSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 0 < seconds <= S.MAX_DURATION:
        raise argparse.ArgumentTypeError(f"duration: must be above 0 and at most "
                                         f"{S.MAX_DURATION / 60:.0f}m (got {text})")
    return seconds


def _error_rate(text: str) -> float:
    percent = text.endswith("%")
    value = _bounded(float, 0, 100 if percent else 1, "--max-error-rate")(text.rstrip("%"))
    return value / 100 if percent else value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench", help="load-test a deployed API and print latency percentiles",
        description="Send the API's own samples to its endpoint for a while and report the "
        "request rate, latency percentiles, status counts and the replicas reached. The run is "
        "saved under $CORTEX_TUI_HOME. Exit 1 when the error rate is above --max-error-rate.",
    )
    parser.add_argument("api", metavar="API")
    parser.add_argument("--samples", metavar="FILE", type=Path,
                        help="a JSON sample, or JSON lines (.jsonl: one sample per line); "
                        "default: the project's sample.json")
    parser.add_argument("--profile", choices=S.PROFILES, default=S.DEFAULT_PROFILE,
                        help="constant (default); step: quarters of the load in turn; ramp: "
                        "from 5 %% to full; spike: 20 %% with full load in the middle fifth")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("-c", "--concurrency", metavar="N", default=None,
                      type=_bounded(int, 1, S.MAX_CONCURRENCY, "-c"),
                      help=f"connections, each sending as fast as it is answered "
                      f"(default {S.DEFAULT_CONCURRENCY}, at most {S.MAX_CONCURRENCY})")
    load.add_argument("--rate", metavar="R", type=_bounded(float, 1e-3, S.MAX_RATE, "--rate"),
                      help="requests per second at full load; latency counts from each "
                      f"request's scheduled start (up to {S.MAX_CONCURRENCY} in flight)")
    parser.add_argument("-d", "--duration", metavar="DURATION", type=_duration,
                        default=S.DEFAULT_DURATION,
                        help=f"30s, 2m, 1m30s (default {S.DEFAULT_DURATION:g}s, at most 10m)")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    parser.add_argument("--max-error-rate", metavar="F", type=_error_rate,
                        default=S.DEFAULT_MAX_ERROR_RATE,
                        help="fraction (0.05) or percent (5%%) of requests without a 2XX "
                        "answer above which the exit code is 1 (default 1%%)")
    add_project_option(parser)
    add_env_option(parser)
    parser.set_defaults(func=run)


def _samples(args: argparse.Namespace) -> tuple[list[bytes], str]:
    path: Path | None = args.samples
    if path is None:
        root = Path(args.path)
        root = root.parent if root.suffix in (".yaml", ".yml") else root
        path = project_sample(root)
        if path is None:
            raise BackendError(f"no samples: {root} has no sample.json; pass --samples FILE")
    try:
        samples = load_samples(path)
    except SampleError as exc:
        raise BackendError(str(exc)) from None
    return samples, f"{path} ({len(samples)})"


def run(args: argparse.Namespace) -> int:
    samples, source = _samples(args)
    concurrency = args.concurrency or (S.MAX_CONCURRENCY if args.rate else S.DEFAULT_CONCURRENCY)
    spec = S.LoadSpec(args.profile, concurrency, args.rate, args.duration)
    backend = get_backend(args.env)
    test = LoadTest(backend, args.api, samples, spec, target=args.env, sample_source=source)
    try:
        with _progress(spec.duration) as update:
            record = test.run(update)
    finally:
        backend.close()
    if record.outcome is not None:
        RunStore().save(record)
    if args.output == "json":
        print(json.dumps(record.summary(), indent=2))
    else:
        print(render_table(record))
    if test.interrupted:
        return 130
    if record.error_rate > args.max_error_rate:
        print(f"error: {100 * record.error_rate:.2f} % of requests failed, above "
              f"--max-error-rate {100 * args.max_error_rate:g} %", file=sys.stderr)
        return 1
    return 0


@contextmanager
def _progress(duration: float) -> Iterator[Callable[[RunRecord], None]]:
    """A progress bar on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda _record: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
               TextColumn("{task.fields[stats]}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("bench", total=duration, stats="")

        def update(record: RunRecord) -> None:
            tick = record.ticks[-1] if record.ticks else None
            stats = "" if tick is None else (
                f"{tick.requests:.0f} req/s  p99 {ms(tick.p99)}  errors {record.errors}")
            bar.update(task, completed=min(record.elapsed, duration), stats=stats)
        yield update
