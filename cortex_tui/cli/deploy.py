"""`cortex-tui deploy [-p PATH] [-e ENV] [--force]`: create / update / delete the project's APIs."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.actions import describe_change
from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option, add_project_option
from cortex_tui.config import load_project
from cortex_tui.config.files import IGNORE_FILE, project_files
from cortex_tui.config.model import Project


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
    parser.add_argument("--dry-run", action="store_true",
                        help="list the files a deploy would ship (after .cortexignore), deploy "
                        "nothing")
    parser.set_defaults(func=run)


def list_shipped(project: Project) -> None:
    files = project_files(project.root)
    total = sum(f.size for f in files)
    print(f"would ship {len(files)} file{'s' if len(files) != 1 else ''} ({total} bytes) "
          f"from {project.root}:")
    width = max((len(f.relative) for f in files), default=0)
    for file in files:
        print(f"  {file.relative:<{width}}  {file.size:>10}")
    print(f"left out: what {IGNORE_FILE} lists, and secrets (.env, .netrc, .aws/, .ssh/...), "
          "version control, virtual environments and caches")


def run(args: argparse.Namespace) -> int:
    project = load_project(args.path)
    if args.dry_run:
        list_shipped(project)
        return 0
    backend = get_backend(args.env)
    try:
        result = backend.deploy(project, force=args.force)
    finally:
        backend.close()
    for change in result.changes:
        print(describe_change(change))
    if any(c.action in ("created", "updated") for c in result.changes):
        env = "" if args.env in (None, "local") else f" -e {args.env}"
        print(f"run `cortex-tui get{env} --watch` to follow the rollout")
    return 0
