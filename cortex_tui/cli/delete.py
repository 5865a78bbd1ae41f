"""`cortex-tui delete [API | --all] [-e ENV]`: stop and remove APIs."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "delete", help="delete an API, or every API with --all",
        description="Stop an API's replicas and remove it from the target.",
    )
    parser.add_argument("api", nargs="?", metavar="API")
    parser.add_argument("--all", action="store_true", help="delete every deployed API")
    add_env_option(parser)
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if (args.api is None) == (not args.all):
        args.parser.error("give an API name or --all (not both)")
    backend = get_backend(args.env)
    try:
        deleted = backend.delete(None if args.all else args.api)
    finally:
        backend.close()
    for name in deleted:
        print(f"deleting {name} api")
    if not deleted:
        print("no apis are deployed")
    return 0
