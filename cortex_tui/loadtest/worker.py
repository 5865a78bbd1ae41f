"""The generator in its own process (`python -m cortex_tui.loadtest.worker`), so the TUI (or the
CLI's progress bar) stays responsive and the generator has an event loop to itself.

The parent sends the job through one pipe and reads `("tick", Tick)` messages and finally
`("done", Outcome)` or `("failed", message)` from another; SIGTERM ends the test at once. A
plain child process rather than multiprocessing's spawn, which would re-import the parent's main
module (the TUI, a test runner).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from typing import Any

from cortex_tui.loadtest.generator import Outcome, Tick
from cortex_tui.loadtest.spec import LoadSpec

EXIT_WAIT = 10.0  # seconds a finished worker gets to exit before it is killed


class WorkerProcess:
    def __init__(self, url: str, samples: list[bytes], spec: LoadSpec) -> None:
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cortex_tui.loadtest.worker", str(job_r), str(out_w)],
            pass_fds=(job_r, out_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, start_new_session=True,  # ctrl+c reaches the parent only
        )
        os.close(job_r)
        os.close(out_w)
        self._conn = Connection(out_r, writable=False)
        with Connection(job_w, readable=False) as job:
            job.send((url, samples, spec))

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        """The next message, None after `timeout` seconds without one."""
        if not self._conn.poll(timeout):
            return None
        try:
            return self._conn.recv()
        except EOFError:
            code = self._process.wait(EXIT_WAIT)
            self._stderr.seek(0)
            tail = self._stderr.read()[-400:].decode("utf-8", "replace").strip()
            return ("failed", f"load generator exited unexpectedly (exit code {code})"
                    + (f": {tail}" if tail else ""))

    def close(self) -> None:
        self.stop()
        try:
            self._process.wait(EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._conn.close()
        self._stderr.close()


def _main(job_fd: int, out_fd: int) -> None:
    from cortex_tui.loadtest import generator

    stopped = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with Connection(job_fd, writable=False) as job:
        url, samples, spec = job.recv()
    with Connection(out_fd, readable=False) as out:
        try:
            outcome = generator.run(url, samples, spec, lambda t: out.send(("tick", t)),
                                    lambda: stopped)
        except BrokenPipeError:
            return  # the parent is gone
        except Exception as exc:  # reported to the parent as the run's failure
            out.send(("failed", f"load generator failed: {type(exc).__name__}: {exc}"))
            return
        out.send(("done", outcome))


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]))


__all__ = ["Outcome", "Tick", "WorkerProcess"]
