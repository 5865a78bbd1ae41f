"""`cortex-tui validate [-p PATH] [-o text|json]`: check cortex.yaml and the inference files."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from cortex_tui.cli import add_project_option
from cortex_tui.config import validate_project
from cortex_tui.config.loader import problem_count
from cortex_tui.config.model import ApiSpec, format_cpu
from cortex_tui.config.quantity import format_bytes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check cortex.yaml and the inference files, report every problem",
        description="Check cortex.yaml and each API's inference file without running anything. "
        "Exit 0 when valid, 1 with every problem on stderr otherwise.",
    )
    add_project_option(parser)
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text",
        help="text (default) or json: {valid, errors, apis}",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project, problems = validate_project(args.path)
    apis = list(project.apis) if project is not None else []
    if args.output == "json":
        document = {
            "valid": project is not None,
            "errors": [p.to_dict() for p in problems],
            "apis": [spec.to_dict() for spec in apis],
        }
        print(json.dumps(strict_json(document), indent=2, allow_nan=False))
        return 0 if project is not None else 1
    if project is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        count = problem_count(problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    width = max(len(spec.name) for spec in apis)
    for spec in apis:
        print(summary_line(spec, width))
    return 0


def strict_json(value: Any) -> Any:
    """`value` with NaN and infinities (YAML's .nan, .inf in metadata) as the strings "NaN",
    "Infinity", "-Infinity": bare, they are not JSON, and jq or a browser would refuse all."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict_json(v) for v in value]
    return value


def summary_line(spec: ApiSpec, width: int = 0) -> str:
    """One line: name (padded to `width`, so several APIs line up), replicas min/init/max,
    cpu, mem, gpu and tracker."""
    c = spec.compute
    mem = "-" if c.mem is None else format_bytes(c.mem)
    if spec.tracker is None:
        tracker = "none"
    else:
        key = f"[{spec.tracker.key}]" if spec.tracker.key else ""
        tracker = f"{spec.tracker.model_type}{key}"
    return (
        f"{spec.name:<{width}}  replicas {c.min_replicas}/{c.init_replicas}/{c.max_replicas} "
        f"(min/init/max)  cpu {format_cpu(c.cpu)}  mem {mem}  gpu {c.gpu}  tracker {tracker}"
    )
