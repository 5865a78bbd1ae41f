"""`cortex-tui scale API [--min N] [--max N] [--init N] [--target-cpu P] [-e ENV]`."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.actions import scale
from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option
from cortex_tui.types import ScaleRequest


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scale", help="change an API's autoscaling bounds",
        description="Change min / max / init replicas or the target CPU utilisation of a "
        "deployed API (the same rules as cortex.yaml).",
    )
    parser.add_argument("api", metavar="API")
    parser.add_argument("--min", type=int, dest="min_replicas", metavar="N")
    parser.add_argument("--max", type=int, dest="max_replicas", metavar="N")
    parser.add_argument("--init", type=int, dest="init_replicas", metavar="N")
    parser.add_argument("--target-cpu", type=int, dest="target_cpu_utilization", metavar="P",
                        help="target CPU utilisation, percent of the cpu request (1-100)")
    add_env_option(parser)
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    request = ScaleRequest(args.min_replicas, args.max_replicas, args.init_replicas,
                           args.target_cpu_utilization)
    if all(v is None for v in request.__dict__.values()):
        args.parser.error("give at least one of --min, --max, --init, --target-cpu")
    backend = get_backend(args.env)
    try:
        new = scale(backend, args.api, request).state
    finally:
        backend.close()
    print(f"{new.name}: min {new.min_replicas}, max {new.max_replicas}, "
          f"target cpu {new.target_cpu_utilization}%, requested {new.requested}")
    return 0
