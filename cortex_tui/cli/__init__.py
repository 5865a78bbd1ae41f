"""`cortex-tui`: the TUI when run without a sub-command, plain sub-commands for scripts.

Each sub-command lives in its own module of this package, which defines
`register(subparsers) -> None` (adding its parser with `set_defaults(func=run)`), where
`run(args) -> int` returns the exit code. Exit codes: 0 success, 1 user error, 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cortex_tui.config.model import ConfigError
from cortex_tui.errors import UserError

# Sub-command modules, in the order `--help` lists them.
_COMMAND_MODULES: tuple[str, ...] = (
    "validate", "deploy", "get", "events", "logs", "predict", "scale", "bench", "delete",
    "render", "cluster", "local",
)


def add_project_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # On a sub-command the option has no default, so `cortex-tui -p X deploy` keeps X.
    parser.add_argument(
        "-p", "--path", default="." if top else argparse.SUPPRESS, metavar="PATH",
        help="project folder holding cortex.yaml, or the cortex.yaml file (default: .)",
    )


def add_env_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "-e", "--env", default="local" if top else argparse.SUPPRESS, metavar="ENV",
        help="target: local (default), a kubeconfig context or a named environment",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cortex-tui",
        description="Serve Python models as autoscaled HTTP APIs. "
        "Without a sub-command, opens the terminal UI.",
    )
    add_project_option(parser, top=True)
    add_env_option(parser, top=True)
    parser.add_argument(
        "--readonly", action="store_true", help="TUI: hide every action that changes anything"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"cortex_tui.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from cortex_tui.tui import run_tui

            return run_tui(path=args.path, env=args.env, readonly=args.readonly)
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
