"""`cortex-tui logs API [-f] [-e ENV]`: the log lines of every replica, prefixed by replica."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "logs", help="print the logs of an API's replicas",
        description="Print each replica's log lines, prefixed by the replica's name.",
    )
    parser.add_argument("api", metavar="API")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="keep printing new lines (all replicas) until Ctrl-C")
    parser.add_argument("--tail", type=_count, default=None, metavar="N",
                        help="start with the last N lines of each replica (0: only new ones)")
    add_env_option(parser)
    parser.set_defaults(func=run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return value


def run(args: argparse.Namespace) -> int:
    backend = get_backend(args.env)
    try:
        lines = backend.logs(args.api, follow=args.follow, tail=args.tail)
        printed = 0
        try:
            for line in lines:
                print(f"[{line.replica}] {line.text}", flush=args.follow)
                printed += 1
        except KeyboardInterrupt:
            return 0
        finally:
            lines.close()
        if not printed and not args.follow and args.tail != 0:
            # an empty output alone reads like a broken command: say why there is nothing
            state = backend.get(args.api)[0]
            why = f"{state.status}: {state.message}" if state.message else str(state.status)
            print(f"{args.api}: no log lines yet ({why})", file=sys.stderr)
    finally:
        backend.close()
    return 0
