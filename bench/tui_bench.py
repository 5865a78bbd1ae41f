"""TUI benchmark (issue 6): 200 APIs on the fake backend, in a real terminal (tmux).

1. time to first frame: from starting the process to the APIs table showing all APIs;
2. CPU of the TUI process while it refreshes once a second for 30 s with the metrics tab of one
   API open (plots move every second, so they redraw every second).
Targets: first frame < 1.5 s, CPU < 15 % of one core. The machine is shared: the idle CPU of
the same process on the APIs view is printed beside it, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FIRST_FRAME_TARGET = 1.5
CPU_TARGET = 15.0


class Tmux:
    def __init__(self) -> None:
        self.socket = f"cortex-tui-bench-{uuid.uuid4().hex[:8]}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=True, env=self.env).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "bench")

    def wait(self, pattern: str, timeout: float = 30.0, poll: float = 0.02) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.screen()):
                return time.monotonic()
            time.sleep(poll)
        raise SystemExit(f"timed out waiting for {pattern!r}:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def cpu_percent(proc: psutil.Process, seconds: float) -> float:
    before = proc.cpu_times()
    start = time.monotonic()
    time.sleep(seconds)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apis", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is required (apt-get install tmux)")
    tmux = Tmux()
    script = shlex.quote(str(ROOT / "bench" / "tui_fake_app.py"))
    command = f"exec {shlex.quote(sys.executable)} {script} --apis {args.apis}"
    start = time.monotonic()
    tmux.run("new-session", "-d", "-s", "bench", "-x", "150", "-y", "45",
             "-e", "TERM=xterm-256color", command)
    try:
        first_frame = tmux.wait(rf"\b{args.apis} apis\b") - start
        pid = int(tmux.run("display", "-p", "-t", "bench", "#{pane_pid}").strip())
        proc = psutil.Process(pid)
        idle = cpu_percent(proc, min(10.0, args.seconds / 3))
        tmux.run("send-keys", "-t", "bench", "Enter")
        tmux.wait(r"Overview\s+Metrics")
        tmux.run("send-keys", "-t", "bench", "m")
        tmux.wait(r"replicas: requested vs ready")
        busy = cpu_percent(proc, args.seconds)
        tmux.run("send-keys", "-t", "bench", "q")
    finally:
        tmux.kill()
    verdict = {True: "ok", False: "OVER TARGET"}
    print(f"TUI benchmark: {args.apis} APIs, refresh every 1 s, 150x45 tmux, "
          f"{os.cpu_count()} cores")
    print(f"  time to first frame (process start -> table filled): {first_frame:.2f} s"
          f"   target < {FIRST_FRAME_TARGET} s   {verdict[first_frame < FIRST_FRAME_TARGET]}")
    print(f"  CPU, metrics tab open, {args.seconds:.0f} s: {busy:.1f} % of one core"
          f"   target < {CPU_TARGET:.0f} %   {verdict[busy < CPU_TARGET]}")
    print(f"  CPU, APIs view refreshing {args.apis} rows (same run, for scale): {idle:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
