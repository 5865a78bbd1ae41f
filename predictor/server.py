"""One replica's life: bind, load inference.py, serve, drain on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.application.state import ApplicationServerInfo
from sanic.http.constants import HTTP, Stage
from sanic.server.async_server import AsyncioServer
from sanic.server.protocols.http_protocol import HttpProtocol

from cortex_tui.config.model import ApiSpec, format_duration, thaw
from predictor.app import build_admin_app, build_serving_app
from predictor.loader import InitFailure, init_failure, prepare
from predictor.logs import log, one_line_traceback, setup_logging
from predictor.observers import load_observers
from predictor.options import Options
from predictor.runner import Runner
from predictor.state import Replica
from predictor.tracker import Tracker

BACKLOG = 1024
DRAIN_POLL_S = 0.02
# During a drain, a keep-alive connection gets its next request answered with
# `Connection: close`; one that stays idle this long (since the drain began or its last
# activity) is closed instead. Long enough that a connection accepted just before the drain
# has its first request read, rather than being cut with the request on the wire.
IDLE_CLOSE_S = 1.0
LISTENER_HANDOFF_S = 0.05


class Fatal(Exception):
    """The replica cannot start: log it, write the termination log, exit 1."""


def bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise Fatal(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def inherited(fd: int) -> socket.socket:
    """The listening socket our parent bound for us (`--listen-fd`); we listen after init."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise Fatal(f"--listen-fd {fd}: not an open socket: {exc.strerror or exc}") from None
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        sock.detach()
        raise Fatal(f"--listen-fd {fd}: not a TCP socket")
    try:
        sock.getsockname()[1]
    except (OSError, IndexError):
        sock.detach()
        raise Fatal(f"--listen-fd {fd}: the socket is not bound to an address") from None
    return sock


async def start(app: Sanic, sock: socket.socket, replica_name: str) -> AsyncioServer:
    # create_server() already listens when it returns, so finalize the routes first
    # (what AsyncioServer.startup() does) or an early request could hit an unready router.
    if not app.state.server_info:  # lets TouchUp drop the empty alt-svc header (HTTP/1 only)
        app.state.server_info.append(
            ApplicationServerInfo(settings={"version": HTTP.VERSION_1, "port": 0})
        )
    if not app.state.is_started:
        await app._startup()
    server = await app.create_server(sock=sock, backlog=BACKLOG, return_asyncio_server=True)
    assert server is not None
    setup_logging(replica_name)  # Sanic reconfigures its loggers while creating a server
    return server


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


class ReplicaServer:
    def __init__(self, opts: Options, root: Path, spec: ApiSpec, deployment: str) -> None:
        self.opts = opts
        self.root = root
        self.spec = spec
        tracker = Tracker(spec.tracker.model_type, spec.tracker.key) if spec.tracker else None
        self.replica = Replica(spec.name, opts.replica, tracker)
        self.observers = load_observers(spec, deployment, opts.replica, os.environ)
        self.replica.observers = self.observers.observers
        threads = spec.compute.threads_per_replica
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="predict")
        self.serving: AsyncioServer | None = None
        self.serving_app: Sanic | None = None
        # A second descriptor of the serving listener, so that we, not the loop, decide the
        # instant it closes (see _close_listener).
        self.serving_sock: socket.socket | None = None
        self.inherited: socket.socket | None = None  # --listen-fd: shared with sibling replicas
        self._idle_since: dict[Any, float] = {}  # drain: connection -> idle since (monotonic)
        self.admin: AsyncioServer | None = None
        self.stop = asyncio.Event()
        self.init_running = False
        self.abandoned = False  # predictions still running in threads after the grace period
        self._adopting: set[asyncio.Task[Any]] = set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        app = build_serving_app(self.replica, self.spec.compute.max_body_size,
                                self.spec.compute.parse_budget)
        if self.opts.admin_port is not None:
            sock = bind(self.opts.host, self.opts.admin_port, reuse_port=False)
            self.admin = await start(build_admin_app(self.replica), sock, self.opts.replica)
            log.info("admin listening on %s (/healthz /stats /metrics)", _address(sock))
        self.serving_app = app
        if self.opts.listen_fd is not None:
            self.inherited = inherited(self.opts.listen_fd)
        elif not self.opts.reuse_port:
            sock = bind(self.opts.host, self.opts.port, reuse_port=False)
            self.serving_sock = sock.dup()
            self.serving = await start(app, sock, self.opts.replica)
            log.info("listening on %s (starting: /healthz answers 503 until init is done)",
                     _address(sock))
        if not await self._load():
            return 0  # stopped during init: nothing was served yet
        if self.inherited is not None:
            await self._serve_inherited(app, self.inherited)
        elif self.opts.reuse_port:
            sock = bind(self.opts.host, self.opts.port, reuse_port=True)
            self.serving_sock = sock.dup()
            self.serving = await start(app, sock, self.opts.replica)
        self.replica.ready = True
        self.replica.sampler.start()
        log.info("ready: api %s serving %s (POST /predict, POST /%s)",
                 self.spec.name, _address(self.serving.server.sockets[0]), self.spec.name)
        await self.stop.wait()
        await self._drain()
        return 0

    async def _serve_inherited(self, app: Sanic, sock: socket.socket) -> None:
        """Accept from the socket every replica of the API shares: one kernel queue, so a
        connection waiting in it is served by whichever replica accepts next, and one that
        stops accepting leaves the queue to its siblings."""
        try:
            sock.listen(BACKLOG)  # harmless when a sibling already made it listen
        except OSError as exc:
            raise Fatal(f"--listen-fd {self.opts.listen_fd}: cannot listen: "
                        f"{exc.strerror or exc}") from None
        sock.setblocking(False)
        self.serving = await start(app, sock, self.opts.replica)

    def _on_signal(self, sig: int) -> None:
        if not self.stop.is_set():
            log.info("received %s: stop accepting, finish requests in flight (a second "
                     "Ctrl-C exits at once)", signal.Signals(sig).name)
        elif sig == signal.SIGINT:  # someone at a terminal who does not want to wait
            log.warning("second SIGINT: exiting now, %d requests abandoned",
                        self.replica.in_flight)
            sys.stdout.flush()
            os._exit(130)
        self.stop.set()

    async def _load(self) -> bool:
        """Import inference.py and run init in the predict pool; False if stopped meanwhile."""
        loop = asyncio.get_running_loop()
        metadata = thaw(self.spec.metadata)
        t0 = time.monotonic()
        log.info("loading %s (api %s)", self.spec.inference or self.spec.model, self.spec.name)
        self.init_running = True
        job = loop.run_in_executor(self.pool, self._prepare, metadata)
        stopped = asyncio.ensure_future(self.stop.wait())
        done, _ = await asyncio.wait({job, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if job not in done:
            log.info("stopped during init")
            return False
        stopped.cancel()
        self.init_running = False
        inference, pending = job.result()  # raises InitFailure
        if pending is not None and not await self._await_init(pending):
            return False
        compute = self.spec.compute
        at_once = compute.concurrency(inference.is_async)
        self.replica.signature = inference.signature
        self.replica.staged = inference.module is None
        self.replica.runner = Runner(
            inference.predict, metadata, is_async=inference.is_async,
            threads=at_once, queue_size=compute.queue_size,
            pool=self.pool, inline_fast=self.opts.inline_fast_predict,
            batching=None if self.spec.batching is None
            else (self.spec.batching.max_batch_size, self.spec.batching.batch_interval),
        )
        self.replica.init_done_at = time.time()
        batches = "" if self.spec.batching is None else (
            f", batches of up to {self.spec.batching.max_batch_size} samples within "
            f"{format_duration(self.spec.batching.batch_interval)}")
        log.info("init done in %.2f s (%s predict, %d at once, queue %d%s)",
                 time.monotonic() - t0, "async" if inference.is_async else "sync",
                 at_once, compute.queue_size, batches)
        if compute.max_concurrency is not None and not inference.is_async:
            log.warning("compute.max_concurrency applies to an async def predict; this sync "
                        "predict runs in threads_per_replica (%d) threads",
                        compute.threads_per_replica)
        return True

    async def _await_init(self, pending: Any) -> bool:
        """Await an `async def init` on the loop; False if stopped meanwhile."""
        init = asyncio.ensure_future(_outcome(pending))
        stopped = asyncio.ensure_future(self.stop.wait())
        done, _ = await asyncio.wait({init, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if init not in done:
            init.cancel()
            log.info("stopped during init")
            return False
        failed = init.result()
        if failed is not None:
            raise init_failure(failed, self.root, self.spec.inference) from failed
        return True

    def _prepare(self, metadata: dict[str, Any]) -> tuple[Any, Any]:
        if self.spec.runtime != "python":
            from predictor.runtimes import prepare_runtime

            return prepare_runtime(self.root, self.spec), None
        return prepare(self.root, self.spec.inference, metadata)

    async def _drain(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), close everything."""
        self.replica.draining = True
        if self.replica.runner is not None and self.replica.runner.batcher is not None:
            self.replica.runner.batcher.drain()
        self.replica.sampler.stop()
        if self.serving is not None and self.inherited is not None:
            # Only our descriptor goes: the parent and the siblings keep the socket and
            # its queue open, so nothing waiting in it is reset.
            self.serving.server.close()
        elif self.serving is not None:
            await self._close_listener()
        deadline = time.monotonic() + self.opts.grace_seconds
        while time.monotonic() < deadline and self._busy():
            await asyncio.sleep(DRAIN_POLL_S)
        left = self.replica.in_flight
        self.abandoned = left > 0
        if left:
            log.warning("grace period of %g s over: %d requests abandoned",
                        self.opts.grace_seconds, left)
        for server in (self.serving, self.admin):
            if server is not None:
                server.server.close()
                for conn in list(server.connections):
                    if conn.transport is not None:
                        conn.transport.abort()
        self.observers.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        log.info("stopped")

    async def _close_listener(self) -> None:
        """Stop accepting without resetting connections already queued on the listener.

        Closing a listener resets the connections waiting in its queue (with SO_REUSEPORT they
        are not handed to a sibling replica unless net.ipv4.tcp_migrate_req=1). So: the loop
        stops watching it and drops its descriptor, while ours keeps the queue alive; then, in
        one synchronous step, we accept what waits, hand it to Sanic and close the listener.
        """
        assert self.serving is not None and self.serving_sock is not None
        self.serving.server.close()
        await asyncio.sleep(LISTENER_HANDOFF_S)  # the loop closes its descriptor meanwhile
        loop = asyncio.get_running_loop()
        factory = partial(HttpProtocol, loop=loop, app=self.serving_app,
                          connections=self.serving.connections)
        taken = 0
        while True:
            try:
                conn, _ = self.serving_sock.accept()
            except OSError:  # BlockingIOError: the queue is empty
                break
            conn.setblocking(False)
            task = loop.create_task(loop.connect_accepted_socket(factory, conn))
            self._adopting.add(task)
            task.add_done_callback(self._adopting.discard)
            taken += 1
        self.serving_sock.close()
        if taken:
            log.info("took %d queued connections before closing the port", taken)

    def _busy(self) -> bool:
        """Close connections idle for IDLE_CLOSE_S; True while any other work remains.

        Idle time counts from the drain's start or the connection's last data, whichever is
        later: a connection in use gets its next request answered (with `Connection: close`)
        instead of being cut while that request may be on the wire.
        """
        busy = self.replica.in_flight > 0 or bool(self._adopting)
        if self.serving is None:
            return busy
        now = time.monotonic()
        seen = self._idle_since
        for conn in list(self.serving.connections):
            http = conn.http
            if http is not None and http.stage is not Stage.IDLE:
                seen.pop(conn, None)
                busy = True
                continue
            since = max(seen.setdefault(conn, now), conn._time)
            if now - since < IDLE_CLOSE_S or not conn.close_if_idle():
                busy = True
        for conn in [c for c in seen if c not in self.serving.connections]:
            del seen[conn]
        return busy


async def _outcome(awaitable: Any) -> BaseException | None:
    """Await it; the exception it raised, if any. Any at all: SystemExit or KeyboardInterrupt
    escaping a task would stop the event loop itself."""
    try:
        await awaitable
    except BaseException as exc:
        return exc
    return None


def write_termination_log(path: str | None, message: str) -> None:
    if not path:
        return
    try:
        Path(path).write_text(message + "\n", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write termination log %s: %s", path, exc)


def fatal(opts: Options, message: str) -> int:
    log.error("%s", message)
    write_termination_log(opts.termination_log, message)
    return 1


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with sanic on Linux
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(opts: Options, root: Path, spec: ApiSpec, deployment: str) -> int:
    server: ReplicaServer | None = None

    async def main() -> int:
        nonlocal server
        server = ReplicaServer(opts, root, spec, deployment)
        return await server.run()

    try:
        with asyncio.Runner(loop_factory=_loop_factory) as runner:
            code = runner.run(main())
    except (InitFailure, Fatal) as exc:
        code = fatal(opts, str(exc))
    except Exception as exc:  # a bug of ours: still one line, still the termination log
        code = fatal(opts, f"predictor crashed: {type(exc).__name__}: {exc}; traceback: "
                           f"{one_line_traceback(exc.__traceback__)}")
    if server is not None and (server.init_running or server.abandoned):
        # init or a prediction still runs in a worker thread that cannot be interrupted, and
        # the interpreter would wait for it at exit: leave now.
        sys.stdout.flush()
        os._exit(code)
    return code
