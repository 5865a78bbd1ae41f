"""Real predictor processes on 127.0.0.1 for tests: a tiny project, a process, an HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.waiting import wait_until

READY = re.compile(r"ready: api \S+ serving http://127\.0\.0\.1:(\d+)")
LISTENING = re.compile(r" listening on http://127\.0\.0\.1:(\d+)")
ADMIN = re.compile(r"admin listening on http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 30.0


def make_project(root: Path, inference: str, *, api: str = "test-api",
                 tracker: dict[str, Any] | None = None, compute: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None,
                 files: dict[str, str] | None = None) -> Path:
    """Write cortex.yaml + inference.py (dedented) and extra files; return the folder."""
    root.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {"kind": "api", "name": api, "python": {"inference": "inference.py"}}
    if tracker:
        entry["tracker"] = tracker
    if compute:
        entry["compute"] = compute
    if metadata is not None:
        entry["metadata"] = metadata
    (root / "cortex.yaml").write_text(yaml.safe_dump([entry], sort_keys=False))
    (root / "inference.py").write_text(textwrap.dedent(inference))
    for name, text in (files or {}).items():
        (root / name).write_text(textwrap.dedent(text))
    return root


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:200]!r}>"


def request(port: int, method: str, path: str, body: bytes | str | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30.0) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body.encode() if isinstance(body, str) else body
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def post_json(port: int, value: Any, path: str = "/predict") -> Response:
    return request(port, "POST", path, json.dumps(value))


class Predictor:
    """One `python -m predictor` process; stdout collected line by line."""

    def __init__(self, project: Path, api: str = "test-api", *, port: int = 0,
                 admin_port: int | None = None, reuse_port: bool = False,
                 listen_fd: int | None = None,
                 env: dict[str, str] | None = None, flags: bool = True) -> None:
        """With flags=False, only the environment (CORTEX_*) configures the process.
        `listen_fd`: a socket of ours the process inherits and serves on (--listen-fd)."""
        args = [sys.executable, "-m", "predictor"]
        if flags:
            args += ["--project", str(project), "--api", api, "--host", "127.0.0.1",
                     "--port", str(port)]
        if admin_port is not None:
            args += ["--admin-port", str(admin_port)]
        if reuse_port:
            args.append("--reuse-port")
        if listen_fd is not None:
            args += ["--listen-fd", str(listen_fd)]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CORTEX_")}
        full_env.pop("KUBERNETES_SERVICE_HOST", None)
        full_env.update(env or {})
        full_env.setdefault("CORTEX_REPLICA", f"test-{api}")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=full_env, text=True, bufsize=1,
                                     pass_fds=() if listen_fd is None else (listen_fd,))
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port: int | None = None
        self.admin_port: int | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def find(self, pattern: re.Pattern[str] | str) -> re.Match[str] | None:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self._lock:
            for line in self.lines:
                if m := rx.search(line):
                    return m
        return None

    def wait_line(self, pattern: re.Pattern[str] | str, timeout: float = START_TIMEOUT) -> re.Match:
        def seen() -> re.Match[str] | None:
            if m := self.find(pattern):
                return m
            if self.proc.poll() is not None:
                self._reader.join(1)
                if m := self.find(pattern):
                    return m
                raise AssertionError(f"predictor exited ({self.proc.returncode}):\n{self.output}")
            return None

        return wait_until(seen, timeout, f"log line {pattern!r}\n{self.output}")

    def wait_listening(self) -> Predictor:
        self.port = int(self.wait_line(LISTENING).group(1))
        if m := self.find(ADMIN):
            self.admin_port = int(m.group(1))
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Predictor:
        self.port = int(self.wait_line(READY, timeout).group(1))
        if m := self.find(ADMIN):
            self.admin_port = int(m.group(1))
        return self

    def wait_exit(self, timeout: float = START_TIMEOUT) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdout:
            self._reader.join(5)
            self.proc.stdout.close()

    # Conveniences for the common port.
    def post(self, value: Any, path: str = "/predict") -> Response:
        assert self.port is not None
        return post_json(self.port, value, path)

    def get(self, path: str, port: int | None = None) -> Response:
        return request(port or self.port or 0, "GET", path)

    def stats(self) -> dict[str, Any]:
        return self.get("/stats", self.admin_port).json()
