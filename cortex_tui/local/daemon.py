"""The operator process: `python -m cortex_tui.local.daemon`, one per state directory.

It takes an exclusive `flock` on `operator.lock` for its whole life (so a stale pid / port file
never blocks a restart: the kernel drops the lock when the process dies), writes a fresh token
(0600), listens on 127.0.0.1 on an ephemeral port, and publishes `{pid, port}` in
`operator.json` once it answers.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from typing import IO, Any

from cortex_tui.local.gpus import GpuSettingError
from cortex_tui.local.options import OperatorOptions
from cortex_tui.local.paths import StateDir, write_private
from cortex_tui.local.server import OperatorServer
from cortex_tui.local.supervisor import Supervisor


class StartError(Exception):
    """The operator cannot start; its message is the last line of the operator's log, which
    the starting client shows."""


def acquire_lock(state: StateDir) -> IO[str] | None:
    handle = open(state.lock, "a+")  # noqa: SIM115 - held open for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


class Operator:
    def __init__(self, state: StateDir, options: OperatorOptions) -> None:
        self.state = state
        self.options = options
        self.supervisor = Supervisor(state, options)
        self.token = secrets.token_urlsafe(32)
        self.stopped = threading.Event()
        self.server = OperatorServer(self.supervisor, self.token, self.info, self.stop)

    def info(self) -> dict[str, Any]:
        cap = self.supervisor.capacity
        return {"pid": os.getpid(), "cpu_millis": cap.cpu_millis, "memory": cap.mem,
                "gpu": cap.gpu, "gpus": self.supervisor.gpu_info(),
                "home": str(self.state.root), "options": self.options.__dict__}

    def stop(self) -> None:
        self.stopped.set()

    def loop(self) -> None:
        while not self.stopped.is_set():
            try:
                self.supervisor.tick()
            except Exception:
                traceback.print_exc()
            self.stopped.wait(self.options.tick)

    def run(self) -> None:
        try:
            self.supervisor.load()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StartError(
                f"cannot read {self.state.state} ({type(exc).__name__}: {exc}); fix it, or move "
                f"it away to start with no API deployed"
            ) from None
        write_private(self.state.token, self.token)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        write_private(self.state.address,
                      json.dumps({"pid": os.getpid(), "port": self.server.port}))
        print(f"{time.ctime()}: operator {os.getpid()} listening on "
              f"127.0.0.1:{self.server.port}", flush=True)
        try:
            self.loop()
        finally:
            self.supervisor.shutdown()
            self.server.shutdown()
            self.state.address.unlink(missing_ok=True)
            print(f"{time.ctime()}: operator stopped", flush=True)


def main() -> int:
    state = StateDir.current()
    state.ensure()
    lock = acquire_lock(state)
    if lock is None:
        print("another operator holds the lock; exiting", file=sys.stderr)
        return 0
    if "--detach" in sys.argv[1:] and os.fork() > 0:
        # The starting client reaps this parent at once; the child (which shares the lock)
        # is adopted by init, so it never lingers as a zombie of a long-lived client.
        os._exit(0)
    try:
        operator = Operator(state, OperatorOptions.from_env())
    except GpuSettingError as exc:
        print(f"{time.ctime()}: operator not started:\n{exc}", flush=True)
        lock.close()
        return 1
    # SIGTERM / SIGINT: a clean stop (every replica stopped). SIGKILL: replicas keep serving
    # and the next operator re-adopts them.
    signal.signal(signal.SIGTERM, lambda *_: operator.stop())
    signal.signal(signal.SIGINT, lambda *_: operator.stop())
    try:
        operator.run()
    except StartError as exc:
        print(f"{time.ctime()}: operator not started:\n{exc}", flush=True)  # last line: why
        return 1
    finally:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
