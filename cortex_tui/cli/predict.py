"""`cortex-tui predict API SAMPLE.json [--debug] [-e ENV]`: send one sample, print the answer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.cli import add_env_option
from cortex_tui.errors import BackendError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "predict", help="send a JSON sample to an API and print its response",
        description="POST the JSON in SAMPLE.json to the API's endpoint and print the "
        "response. Exit 1 (response on stderr) when the API answers an error.",
    )
    parser.add_argument("api", metavar="API")
    parser.add_argument("sample", metavar="SAMPLE.json", help="file holding the JSON sample")
    parser.add_argument("--debug", action="store_true",
                        help="ask the replica to log the sample and the prediction")
    add_env_option(parser)
    parser.set_defaults(func=run)


def read_sample(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BackendError(f"{path}: cannot read the sample: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BackendError(f"{path}: not valid JSON: {exc}") from None


def run(args: argparse.Namespace) -> int:
    sample = read_sample(args.sample)
    backend = get_backend(args.env)
    try:
        result = backend.predict(args.api, sample, debug=args.debug)
    finally:
        backend.close()
    text = result.shown()
    if result.status >= 400:
        print(f"error: {args.api} answered {result.status}", file=sys.stderr)
        print(text, file=sys.stderr)
        return 1
    print(text)
    return 0
