"""One replica: a predictor process in its own process group, with its private admin port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from cortex_tui.local import logfiles
from cortex_tui.local.gpus import devices_of_process, visible_devices_env
from cortex_tui.local.oplog import describe
from predictor.model_store import CACHE_ENV as MODEL_CACHE_ENV

HOST = "127.0.0.1"
PREDICTOR_MODULE_ENV = "CORTEX_TUI_PREDICTOR_MODULE"  # tests / development only
# Set in the environment of the operator and of every replica it starts: the state directory
# they belong to, so `local stop` can find every process of ours even without state files.
OWNER_ENV = "CORTEX_TUI_OWNER"
UNKNOWN_EXIT = -255  # an adopted process is not our child: its exit code cannot be known
MIN_CPU_SAMPLE_S = 1.0  # shortest interval a CPU utilisation is measured over
DEFAULT_THREAD_STACK = 8 << 20  # glibc's thread stack when RLIMIT_STACK is unlimited
REPLICA_THREADS = 2  # the event loop's and one helper's, beside the predict threads


def free_port(avoid: set[int] | frozenset[int] = frozenset()) -> int:
    """An ephemeral port nobody listens on right now and not in `avoid` (ports handed to
    replicas that may not have bound them yet)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def data_limit(mem: int, threads: int) -> int:
    """The RLIMIT_DATA enforcing `mem`. The kernel counts a thread's whole stack reservation
    (RLIMIT_STACK, 8 MiB by default) although few of its pages are ever used, and a cgroup
    would count only those: each predict thread and the replica's own two get it on top."""
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    stack = DEFAULT_THREAD_STACK if soft == resource.RLIM_INFINITY else soft
    return mem + (threads + REPLICA_THREADS) * stack


def replica_name(api: str, version: int) -> str:
    return f"{api}-v{version}-{secrets.token_hex(3)}"


def _http_get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _adopted_gpus(pid: int, recorded: list[int] | None) -> tuple[int, ...]:
    """The devices a running replica holds: its environment says (the process is the truth),
    the state file is only a fallback where the environment cannot be read."""
    seen = devices_of_process(pid)
    if seen is not None:
        return seen
    return tuple(int(i) for i in recorded or ())


@dataclass
class Replica:
    name: str
    api: str
    version: int
    port: int
    admin_port: int
    log_path: Path
    termination_path: Path
    pid: int
    create_time: float
    cpu_millis: int
    mem: int
    project: Path
    state: str = "starting"  # starting | ready | stopping
    started_at: float = field(default_factory=time.time)
    stop_sent_at: float | None = None
    ready_at: float | None = None
    killed_by_us: bool = False
    out_of_memory: str = ""  # set when the operator killed it for using more than `mem`
    popen: subprocess.Popen[bytes] | None = None
    cpu_sample: tuple[float, float] | None = None  # (wall time, cpu seconds)
    listen_fd: int | None = None  # the API's endpoint socket, as numbered in the replica
    gpus: tuple[int, ...] = ()  # the GPU devices it was given (CUDA_VISIBLE_DEVICES)
    log_error: str = ""  # why its log file could not be opened (its output is discarded)
    ready_announced: bool = False  # its "ready" event is recorded (maybe by a previous operator)


    @classmethod
    def spawn(
        cls, *, api: str, version: int, project: Path, config: str, listener: socket.socket,
        log_dir: Path, cpu_millis: int, mem: int, avoid_ports: set[int],
        gpus: tuple[int, ...] = (), python: str = sys.executable, threads: int = 1,
    ) -> Replica:
        """Start a predictor serving `listener`, the API's endpoint socket (inherited, same
        descriptor number: every replica of the API accepts from its one queue)."""
        name = replica_name(api, version)
        admin = free_port(avoid_ports)
        fd, port = listener.fileno(), int(listener.getsockname()[1])
        log_path = log_dir / f"{name}.log"
        termination = log_dir / f"{name}.termination"
        module = os.environ.get(PREDICTOR_MODULE_ENV, "predictor")
        cmd = [
            # -P: the project folder (the working directory) must not shadow our modules; a
            # user's `predictor.py` would otherwise run instead of the predictor.
            python, "-P", "-m", module, "--project", str(project / config), "--api", api,
            "--host", HOST, "--listen-fd", str(fd), "--admin-port", str(admin),
        ]
        env = dict(os.environ, PYTHONUNBUFFERED="1", CORTEX_TERMINATION_LOG=str(termination),
                   CORTEX_REPLICA=name, **visible_devices_env(gpus))
        env[OWNER_ENV] = str(log_dir.parent.parent)
        # s3:// models: downloaded once per ETag into the state directory, shared by replicas
        env[MODEL_CACHE_ENV] = str(log_dir.parent.parent / "models")
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            log: IO[bytes] | int = open(log_path, "ab")  # noqa: SIM115 - closed below
            log_error = ""
        except OSError as exc:  # a read-only or full state directory: serve without a log
            log, log_error = subprocess.DEVNULL, describe(exc)
        try:
            popen = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=project, env=env, start_new_session=True, pass_fds=(fd,),
            )
        finally:
            if not isinstance(log, int):
                log.close()
        try:
            process = psutil.Process(popen.pid)
            created = process.create_time()
            if mem > 0:
                cap = data_limit(mem, threads)
                process.rlimit(psutil.RLIMIT_DATA, (cap, cap))
        except psutil.Error:
            created = 0.0
        return cls(name, api, version, port, admin, log_path, termination, popen.pid, created,
                   cpu_millis, mem, project, popen=popen, listen_fd=fd, gpus=gpus,
                   log_error=log_error)

    @classmethod
    def adopt(cls, record: dict[str, Any]) -> Replica | None:
        """A replica left running by a previous operator, if it is still the same process."""
        try:
            proc = psutil.Process(int(record["pid"]))
            if abs(proc.create_time() - float(record["create_time"])) > 0.01:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
        except (psutil.Error, KeyError, ValueError):
            return None
        replica = cls(
            record["name"], record["api"], int(record["version"]), int(record["port"]),
            int(record["admin_port"]), Path(record["log_path"]),
            Path(record["termination_path"]), int(record["pid"]),
            float(record["create_time"]), int(record["cpu_millis"]), int(record["mem"]),
            Path(record["project"]), state="starting",
            ready_announced=bool(record.get("ready_announced")),
            started_at=float(record.get("started_at", time.time())),
            listen_fd=record.get("listen_fd"),
            gpus=_adopted_gpus(int(record["pid"]), record.get("gpus")),
        )
        if record.get("stopping"):  # it was draining when the previous operator died
            replica.state, replica.stop_sent_at = "stopping", time.time()
            replica.killed_by_us = True
        return replica

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name, "api": self.api, "version": self.version, "port": self.port,
            "admin_port": self.admin_port, "log_path": str(self.log_path),
            "termination_path": str(self.termination_path), "pid": self.pid,
            "create_time": self.create_time, "cpu_millis": self.cpu_millis, "mem": self.mem,
            "started_at": self.started_at, "project": str(self.project),
            "stopping": self.state == "stopping", "listen_fd": self.listen_fd,
            "ready_announced": self.ready_announced,
            "gpus": list(self.gpus),
        }

    def exit_code(self) -> int | None:
        """None while running; the exit code (negative: killed by that signal) once gone."""
        if self.popen is not None:
            return self.popen.poll()
        try:
            proc = psutil.Process(self.pid)
            if proc.create_time() == self.create_time and proc.status() != psutil.STATUS_ZOMBIE:
                return None
        except psutil.Error:
            pass
        return UNKNOWN_EXIT

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            status, _ = _http_get(self.admin_port, "/healthz", timeout)
        except OSError:
            return False
        return status == 200

    def stats(self, timeout: float = 1.0) -> dict[str, Any] | None:
        try:
            status, body = _http_get(self.admin_port, "/stats", timeout)
            return json.loads(body) if status == 200 else None
        except (OSError, ValueError):
            return None

    def cpu_seconds(self) -> float | None:
        try:
            times = psutil.Process(self.pid).cpu_times()
        except psutil.Error:
            return None
        return float(times.user + times.system)

    def utilization_since_sample(self) -> float | None:
        """CPU use since the previous call, as percent of the replica's cpu request."""
        now, cpu = time.monotonic(), self.cpu_seconds()
        if cpu is None:
            return None
        previous = self.cpu_sample
        if previous is not None and now - previous[0] < MIN_CPU_SAMPLE_S:
            return None  # CPU time counts in 10 ms ticks: too short an interval reads as 0 %
        self.cpu_sample = (now, cpu)
        if previous is None:
            return None
        cores = (cpu - previous[1]) / (now - previous[0])
        return 100.0 * cores * 1000 / max(self.cpu_millis, 1)

    def rss(self) -> int | None:
        try:
            return int(psutil.Process(self.pid).memory_info().rss)
        except psutil.Error:
            return None

    def signal(self, sig: signal.Signals) -> None:
        if self.exit_code() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def stop(self) -> None:
        """Begin a graceful stop (SIGTERM: stop accepting, finish in-flight requests)."""
        if self.stop_sent_at is None:
            self.state = "stopping"
            self.stop_sent_at = time.time()
            self.killed_by_us = True
            self.signal(signal.SIGTERM)

    def last_lines(self, n: int = 10) -> list[str]:
        text = logfiles.last_text(self.log_path)
        return [line for line in text.splitlines() if line.strip()][-n:]

    def termination_message(self) -> str:
        try:
            return self.termination_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
