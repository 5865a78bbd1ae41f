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
from typing import IO, Any

from cortex_tui.local.gpus import GpuSettingError
from cortex_tui.local.oplog import OperatorLog
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
    def __init__(self, state: StateDir, options: OperatorOptions, log: OperatorLog) -> None:
        self.state = state
        self.options = options
        self.log = log
        self.supervisor = Supervisor(state, options, log)
        self.token = secrets.token_urlsafe(32)
        self.stopped = threading.Event()
        self.server = OperatorServer(self.supervisor, self.token, self.info, self.stop, log)

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
            except Exception as exc:  # keep supervising; the same error is written once
                self.log.error("supervisor tick failed", exc)
            self.stopped.wait(self.options.tick)

    def run(self) -> None:
        try:
            self.supervisor.load()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StartError(
                f"cannot read {self.state.state} ({type(exc).__name__}: {exc}); fix it, or move "
                f"it away to start with no API deployed"
            ) from None
        try:
            write_private(self.state.token, self.token)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
            write_private(self.state.address,
                          json.dumps({"pid": os.getpid(), "port": self.server.port}))
        except OSError as exc:
            raise StartError(f"cannot write the operator's address in {self.state.root}: "
                             f"{exc.strerror or exc}") from None
        self.log.say(f"operator {os.getpid()} listening on 127.0.0.1:{self.server.port}")
        try:
            self.loop()
        finally:
            self._exit()

    def _exit(self) -> None:
        """Only a requested stop (`local stop`, SIGTERM) stops the replicas: an operator that
        dies of anything else leaves them serving, for the next operator to adopt."""
        self.server.shutdown()
        if self.stopped.is_set():
            self.supervisor.shutdown()
            self.state.address.unlink(missing_ok=True)
            self.log.say("operator stopped")
        else:
            self.log.say("operator exiting unexpectedly; its replicas keep serving until "
                         "an operator adopts them again")


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
    log = OperatorLog()
    sys.stdout = sys.stderr = log  # type: ignore[assignment] # writing the log never raises
    try:
        operator = Operator(state, OperatorOptions.from_env(), log)
    except GpuSettingError as exc:
        log.say(f"operator not started:\n{exc}")
        lock.close()
        return 1
    # SIGTERM / SIGINT: a clean stop (every replica stopped). SIGKILL: replicas keep serving
    # and the next operator re-adopts them.
    signal.signal(signal.SIGTERM, lambda *_: operator.stop())
    signal.signal(signal.SIGINT, lambda *_: operator.stop())
    try:
        operator.run()
    except StartError as exc:
        log.say(f"operator not started:\n{exc}")  # the last line: why
        return 1
    finally:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
