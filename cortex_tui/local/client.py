"""Talking to the operator: find it (or start it, detached), call its HTTP API, stop it."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlencode

import psutil

from cortex_tui.errors import ApiNotFound, BackendError, TargetUnavailable
from cortex_tui.local import logfiles
from cortex_tui.local.paths import TOKEN_HEADER, StateDir
from cortex_tui.local.replica import OWNER_ENV, Replica

START_TIMEOUT = 30.0
STOP_TIMEOUT = 40.0


class _Unauthorized(BackendError):
    """The token changed: another operator runs now (re-read the files)."""


class OperatorClient:
    def __init__(self, state: StateDir | None = None, timeout: float = 60.0) -> None:
        self.state = state or StateDir.current()
        self.timeout = timeout
        self._known: tuple[int, str] | None = None  # (port, token) that answered last
        self._log_start = 0  # size of the operator's log when this client last started one
        self._connected = False  # this session has talked to an operator before

    # ---- discovery ---------------------------------------------------------------------
    def _address(self) -> tuple[int, int, str] | None:
        try:
            data = json.loads(self.state.address.read_text(encoding="utf-8"))
            token = self.state.token.read_text(encoding="utf-8").strip()
            return int(data["pid"]), int(data["port"]), token
        except (OSError, ValueError, KeyError):
            return None

    def running_pid(self) -> int | None:
        """The operator's pid if one answers, else None (stale files are ignored)."""
        address = self._address()
        if address is None:
            return None
        pid, port, token = address
        try:
            self._call(port, token, "GET", "/v1/info", None, timeout=5.0)
        except (OSError, BackendError):
            return None
        return pid

    def ensure_started(self) -> tuple[int, str]:
        address = self._address()
        if address is not None and self._answers(address[1], address[2]):
            return address[1], address[2]
        self.state.ensure()
        with open(self.state.start_lock, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one starting client at a time
            deadline = time.monotonic() + START_TIMEOUT
            if not self._lock_free():  # an operator runs (starting, or busy): wait for it
                return self._wait_for_address(deadline, None)
            self.state.address.unlink(missing_ok=True)  # stale: its process is gone
            with open(self.state.operator_log, "ab") as log:
                self._log_start = log.tell()
                proc = subprocess.Popen(
                    [sys.executable, "-P", "-m", "cortex_tui.local.daemon", "--detach"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.state.root, start_new_session=True,
                    env=dict(os.environ, CORTEX_TUI_HOME=str(self.state.root.parent),
                             **{OWNER_ENV: str(self.state.root)}),
                )
            return self._wait_for_address(deadline, proc)

    def _lock_free(self) -> bool:
        """True when no operator holds the state directory's lock (the kernel drops it when
        the operator dies, so stale pid / port files never count)."""
        with open(self.state.lock, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True

    def _answers(self, port: int, token: str) -> bool:
        try:
            self._call(port, token, "GET", "/v1/info", None, timeout=5.0)
        except (OSError, BackendError):
            return False
        return True

    def _wait_for_address(
        self, deadline: float, proc: subprocess.Popen[bytes] | None
    ) -> tuple[int, str]:
        while time.monotonic() < deadline:
            address = self._address()
            if address is not None and self._answers(address[1], address[2]):
                return address[1], address[2]
            if proc is not None and proc.poll() is not None and self._lock_free():
                # it (or the detached child holding the lock) died before answering
                why = self._last_log_line()
                if why:
                    raise TargetUnavailable(
                        f"the local operator did not start: {why} (log: "
                        f"{self.state.operator_log})"
                    )
                break
            time.sleep(0.05)
        raise TargetUnavailable(
            f"the local operator did not start or does not answer; see "
            f"{self.state.operator_log} (`cortex-tui local stop` stops a stuck one)"
        )

    def _last_log_line(self) -> str:
        """The last line the operator we started wrote to its log."""
        lines, _ = logfiles.read_from(self.state.operator_log, self._log_start)
        lines = [line.strip() for line in lines if line.strip()]
        return lines[-1] if lines else ""

    # ---- calls -------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None,
             query: dict[str, Any] | None = None) -> Any:
        if query:
            path += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        if self._known is None:
            # A session that was connected (a TUI left open) keeps polling: its reads must not
            # start again an operator the user stopped; an action (deploy, scale...) may.
            if self._connected and method == "GET" and self.state.stopped.exists():
                raise self._stopped()
            self._known = self.ensure_started()
            self._connected = True
            self.state.stopped.unlink(missing_ok=True)
        try:
            try:
                return self._call(*self._known, method, path, body, self.timeout)
            except (ConnectionError, _Unauthorized):
                # The operator died or was replaced. A session that was connected restarts a
                # crashed operator, never one the user stopped on purpose.
                if self.state.stopped.exists():
                    self._known = None
                    raise self._stopped() from None
                self._known = self.ensure_started()
                return self._call(*self._known, method, path, body, self.timeout)
        except OSError as exc:
            self._known = None
            raise TargetUnavailable(
                f"the local operator does not answer ({exc}); `cortex-tui local stop` "
                f"stops it, see {self.state.operator_log}"
            ) from None

    @staticmethod
    def _stopped() -> TargetUnavailable:
        return TargetUnavailable(
            "the local operator was stopped (`cortex-tui local stop`); deploying, or any "
            "cortex-tui command, starts it again"
        )

    @staticmethod
    def _call(port: int, token: str, method: str, path: str, body: Any, timeout: float) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {TOKEN_HEADER: token, "Content-Type": "application/json"}
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = json.loads(resp.read() or b"null")
        finally:
            conn.close()
        if resp.status == 200:
            return payload
        message = payload.get("error", "") if isinstance(payload, dict) else str(payload)
        if resp.status == 401:
            raise _Unauthorized(message)
        if resp.status == 404 and isinstance(payload, dict) and payload.get("api"):
            raise ApiNotFound(payload["api"])
        raise BackendError(message or f"operator answered {resp.status}")

    # ---- stop --------------------------------------------------------------------------
    def stop(self) -> tuple[bool, int]:
        """Stop the operator and every replica: (an operator was answering, how many other
        processes of ours were left and killed: a hung operator, replicas of a dead one)."""
        self._known = None
        if self.state.root.is_dir():  # first: a session polling meanwhile must not restart it
            self.state.stopped.touch()
        address = self._address()
        was_running = False
        if address is not None and self._answers(address[1], address[2]):
            was_running = True
            pid = address[0]
            with contextlib.suppress(BackendError, OSError):
                self._call(address[1], address[2], "POST", "/v1/stop", {}, 10.0)
            _wait_gone(pid, STOP_TIMEOUT)
        killed = self._kill_leftover_replicas()
        for proc in owned_processes(self.state):  # a hung operator, unrecorded replicas
            with contextlib.suppress(psutil.Error):
                proc.kill()
                proc.wait(5)
                killed += 1
        return was_running, killed

    def _kill_leftover_replicas(self) -> int:
        """Replicas recorded in state.json that still run (e.g. after the operator was killed)."""
        try:
            data = json.loads(self.state.state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        killed = 0
        for raw in data.get("replicas", []) if isinstance(data, dict) else []:
            replica = Replica.adopt(raw)
            if replica is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(replica.pid, signal.SIGKILL)
                    killed += 1
                _wait_gone(replica.pid, 5.0)
        return killed


def owned_processes(state: StateDir) -> list[psutil.Process]:
    """Every live process started by the operator of `state` (found by environment marker)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(OWNER_ENV) == str(state.root) and \
                    proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def _wait_gone(pid: int, timeout: float) -> None:
    """Wait until `pid` has exited (a zombie counts as exited), SIGKILL it after `timeout`."""
    deadline = time.monotonic() + timeout
    killed = False
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        while proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                if killed:
                    return  # unkillable (uninterruptible sleep): give up
                proc.kill()
                killed, deadline = True, time.monotonic() + 5
            time.sleep(0.05)
