"""`cortex-tui events API [-e ENV] [-o table|json] [--all]`: why the API scaled."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "events",
        help="list the autoscaler's decisions for an API, with their arithmetic",
        description="Each autoscaler sync records its signal, the raw recommendation and "
        "every rule that acted (tolerance, factor limits, min/max, stabilisation). By default "
        "the syncs that changed the replica count or where a rule held a change back; --all "
        "lists every sync of the last 24 hours.",
    )
    parser.add_argument("api", metavar="API", help="the API")
    add_env_option(parser)
    parser.add_argument("--all", action="store_true", help="every sync, not only the moves")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table",
                        help="table (default) or json (a list of decisions)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = get_backend(args.env)
    try:
        decisions = backend.decisions(args.api)
    finally:
        backend.close()
    shown = decisions if args.all else [d for d in decisions if d.notable]
    if args.output == "json":
        print(json.dumps([d.to_json() for d in shown], indent=2))
    elif not shown:
        print(f"no scaling decisions for {args.api} yet" if not decisions else
              f"no change since the autoscaler started ({len(decisions)} syncs; --all lists them)")
    else:
        for d in shown:
            print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(d.t))}  {d.summary()}")
    return 0
