"""`cortex-tui deploy [-p PATH] [-e ENV] [--force]`: create / update / delete the project's APIs."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option, add_project_option
from cortex_tui.config import load_project
from cortex_tui.types import DeployChange


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="deploy the project's APIs (create, update, delete what changed)",
        description="Validate the project, then create the APIs it lists, update the ones that "
        "changed and delete the ones of the same deployment it no longer lists.",
    )
    add_project_option(parser)
    add_env_option(parser)
    parser.add_argument("--force", action="store_true",
                        help="redeploy every API, even the unchanged ones")
    parser.set_defaults(func=run)


def describe(change: DeployChange) -> str:
    """One line per API, in the words of the original platform's messages."""
    if change.action == "created":
        return f"creating {change.api} api"
    if change.action == "updated":
        why = f" ({change.message})" if change.message else ""
        return f"updating {change.api} api{why}"
    if change.action == "deleted":
        return f"deleting {change.api} api"
    return f"{change.api} api is up to date"


def run(args: argparse.Namespace) -> int:
    project = load_project(args.path)
    backend = get_backend(args.env)
    try:
        result = backend.deploy(project, force=args.force)
    finally:
        backend.close()
    for change in result.changes:
        print(describe(change))
    if any(c.action in ("created", "updated") for c in result.changes):
        env = "" if args.env in (None, "local") else f" -e {args.env}"
        print(f"run `cortex-tui get{env} --watch` to follow the rollout")
    return 0
