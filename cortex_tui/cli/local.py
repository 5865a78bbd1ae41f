"""`cortex-tui local stop|status`: the local operator itself."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.backends.local import LocalBackend


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local", help="the local operator: stop it (and every replica) or show its status",
        description="`stop` stops the local operator and every replica it runs; the deployed "
        "APIs come back the next time the local target is used. `status` tells whether the "
        "operator runs.",
    )
    parser.add_argument("action", choices=("stop", "status"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = LocalBackend()
    if args.action == "stop":
        was_running, leftovers = backend.stop_operator()
        print("local operator stopped" if was_running else "local operator was not running")
        if leftovers:
            print(f"stopped {leftovers} process{'es' if leftovers > 1 else ''} it had left "
                  f"running (replicas of a crashed operator, or a hung one)")
        return 0
    pid = backend.operator_pid()
    if not pid:
        print("local operator not running")
        return 0
    info = backend.operator_info()
    print(f"local operator running (pid {pid})")
    print(f"state: {info['home']}")
    options = info["options"]
    print(f"autoscaler: sync every {options['sync_period']:g} s, scale-down window "
          f"{options['scale_down_window']:g} s")
    return 0
