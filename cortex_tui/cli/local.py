"""`cortex-tui local stop|status`: the local operator itself."""

from __future__ import annotations

import argparse
from typing import Any

from cortex_tui.backends import get_backend
from cortex_tui.formats import format_memory
from cortex_tui.settings import LOCAL


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
    backend = get_backend(LOCAL)
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
    print(gpu_summary(info.get("gpus", [])))
    return 0


def gpu_summary(devices: list[dict[str, Any]]) -> str:
    """`gpus: none` or one line per device: model, memory, who holds it, its load now."""
    if not devices:
        return "gpus: none (no NVIDIA GPU found through NVML, or CORTEX_TUI_GPUS excludes them)"
    lines = [f"gpus: {len(devices)}"]
    for d in devices:
        load = "" if d["utilization"] is None else (
            f", {d['utilization']:.0f}% busy, {format_memory(d['memory_used'])} used")
        lines.append(f"  gpu {d['index']}: {d['name']}, {format_memory(d['memory'])}, "
                     f"{'replica ' + d['replica'] if d['replica'] else 'free'}{load}")
    return "\n".join(lines)
