"""The load generator: asyncio (uvloop) with keep-alive HTTP/1.1 connections, responses parsed by
httptools (both come with Sanic). It runs in its own process (`worker.py`) and reports a `Tick`
per second.

Closed loop (no rate): each active connection sends its next request as soon as the last one is
answered; latency is measured from the send. Open loop (a rate): requests are scheduled at fixed
times and latency is measured from each request's *scheduled* start, so a slow server that delays
the sending counts against it (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools

from cortex_tui.loadtest import histogram
from cortex_tui.loadtest.spec import LoadSpec

# uvloop's clock() has millisecond steps: latencies are measured with this clock instead.
clock = time.perf_counter
TICK = 1.0  # seconds between two reports
REQUEST_TIMEOUT = 30.0  # a request still unanswered then is an error
RECONNECT_PAUSE = 0.1  # after a failed connect, so a dead endpoint is not hammered
IDLE_POLL = 0.05  # how often an inactive connection checks whether the profile wants it
MAX_MESSAGES = 20  # distinct error messages kept; the rest are counted as "other"
MESSAGE_CHARS = 120


@dataclass
class Tick:
    """One second of the test, as the plots show it."""

    t: float  # seconds since the start, at the end of the interval
    requests: int  # answered (or failed) in the interval
    p50: float | None  # ms, over the interval
    p90: float | None
    p99: float | None
    code_2xx: int = 0
    code_4xx: int = 0
    code_5xx: int = 0
    shed: int = 0  # 503 with Retry-After (part of code_5xx)
    errors: int = 0  # no HTTP answer (refused, reset, timeout)
    in_flight: int = 0
    level: float = 1.0  # the profile's fraction of full load


@dataclass
class Outcome:
    """Everything the generator measured; the histogram is encoded."""

    elapsed: float
    requests: int
    codes: dict[str, int]  # "2xx", "4xx", "5xx", "503+retry-after", "error"
    messages: list[tuple[str, int]]  # ("503 queue is full", count), most frequent first
    histogram: str
    cancelled: int = 0  # in flight when the test was stopped
    ticks: list[Tick] = field(default_factory=list)


def _request_bytes(url: str, sample: bytes) -> bytes:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(sample)}\r\n\r\n")
    return head.encode() + sample


class _Recorder:
    def __init__(self) -> None:
        self.total = histogram.new()
        self.interval = histogram.new()
        self.codes: Counter[str] = Counter()
        self.interval_codes: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.requests = 0
        self.interval_requests = 0

    def record(self, latency_s: float, status: int, retry_after: bool, message: str) -> None:
        us = min(max(int(latency_s * 1e6), histogram.LOWEST_US), histogram.HIGHEST_US)
        self.interval.record_value(us)  # added to the total once per tick (cheaper)
        self.requests += 1
        self.interval_requests += 1
        key = "error" if status == 0 else f"{status // 100}xx"
        self.codes[key] += 1
        self.interval_codes[key] += 1
        if status == 503 and retry_after:
            self.codes["503+retry-after"] += 1
            self.interval_codes["503+retry-after"] += 1
        if not 200 <= status < 300:
            text = f"{status} {message}" if status else message
            if text in self.messages or len(self.messages) < MAX_MESSAGES:
                self.messages[text[:MESSAGE_CHARS]] += 1
            else:
                self.messages["other"] += 1

    def tick(self, t: float, in_flight: int, level: float) -> Tick:
        p = histogram.percentiles_ms(self.interval, full=False)
        c = self.interval_codes
        tick = Tick(t, self.interval_requests, p["p50"], p["p90"], p["p99"], c["2xx"], c["4xx"],
                    c["5xx"], c["503+retry-after"], c["error"], in_flight, level)
        if self.interval_requests:
            self.total.add(self.interval)
        self.interval.reset()
        self.interval_codes = Counter()
        self.interval_requests = 0
        return tick


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `send` writes a request and awaits its response."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[int] | None = None
        self.retry_after = False
        self.body = bytearray()
        self.closed = False
        self.reusable = True
        self.sent_at = 0.0

    # protocol callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed by the server"))

    def on_header(self, name: bytes, _value: bytes) -> None:
        if name.lower() == b"retry-after":
            self.retry_after = True

    def on_body(self, body: bytes) -> None:
        if len(self.body) < 1024:
            self.body += body

    def on_message_complete(self) -> None:
        # asked here: once the message is complete the parser answers for the next one
        self.reusable = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.parser.get_status_code())

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    # client side
    def send(self, request: bytes) -> asyncio.Future[int]:
        self.sent_at = clock()
        self.retry_after = False
        self.body.clear()
        self.waiter = self.loop.create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter

    def expire(self, now: float) -> None:
        """Fail the request in flight when it has waited longer than the timeout (checked by
        the ticker: cheaper than a timer per request)."""
        if now - self.sent_at > REQUEST_TIMEOUT:
            self._fail(TimeoutError())

    def keep_alive(self) -> bool:
        return not self.closed and self.reusable

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _error_message(body: bytes) -> str:
    """The replica's `{"error": "..."}`, else the start of the body."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:MESSAGE_CHARS]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"][:MESSAGE_CHARS]
    return str(data)[:MESSAGE_CHARS]


class Generator:
    """One load test against `url` (the API's endpoint), until the duration ends or `stop()`."""

    def __init__(self, url: str, samples: list[bytes], spec: LoadSpec,
                 on_tick: Callable[[Tick], None] = lambda _t: None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"cannot load-test {url!r}: only http:// endpoints")
        self.host, self.port = parts.hostname, parts.port or 80
        self.requests = [_request_bytes(url, s) for s in samples]
        self.spec = spec
        self.on_tick = on_tick
        self.recorder = _Recorder()
        self.in_flight = 0
        self.sent = 0
        self._stopped = asyncio.Event()
        self._slot = 0.0
        self._start = 0.0
        self._end = 0.0
        self._ticks: list[Tick] = []
        self._open: set[_Connection] = set()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> Outcome:
        loop = asyncio.get_running_loop()
        self._start = self._slot = clock()
        self._end = self._start + self.spec.duration
        if self.spec.rate is None:
            workers = [asyncio.create_task(self._closed_loop(loop, i))
                       for i in range(self.spec.concurrency)]
        else:
            workers = [asyncio.create_task(self._open_loop(loop))]
        ticker = asyncio.create_task(self._ticker(loop))
        stopper = asyncio.create_task(self._stopped.wait())
        done_all = asyncio.gather(*workers)
        await asyncio.wait([done_all, stopper], return_when=asyncio.FIRST_COMPLETED)
        cancelled = 0
        if self._stopped.is_set():
            cancelled = self.in_flight
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        stopper.cancel()
        ticker.cancel()
        elapsed = clock() - self._start
        self._emit(clock())
        return Outcome(
            elapsed=max(elapsed, 1e-9), requests=self.recorder.requests,
            codes=dict(self.recorder.codes), messages=self.recorder.messages.most_common(),
            histogram=self.recorder.total.encode().decode(), cancelled=cancelled,
            ticks=self._ticks,
        )

    async def _ticker(self, loop: asyncio.AbstractEventLoop) -> None:
        next_tick = self._start + TICK
        while True:
            await asyncio.sleep(max(0.0, next_tick - clock()))
            self._emit(next_tick)
            next_tick += TICK
            now = clock()
            self._open = {conn for conn in self._open if not conn.closed}
            for conn in self._open:
                conn.expire(now)

    def _emit(self, now: float) -> None:
        t = now - self._start
        if self._ticks and t - self._ticks[-1].t < 1e-3:
            return
        tick = self.recorder.tick(t, self.in_flight, self.spec.level(t))
        self._ticks.append(tick)
        self.on_tick(tick)

    def _next_slot(self) -> float | None:
        """Closed loop: None once the test is over. Open loop: the next request's scheduled
        start (its latency is measured from then), None past the end."""
        slot = self._slot
        if slot >= self._end - 1e-6:  # the sum of 1/rate steps drifts below the end
            return None
        assert self.spec.rate is not None
        self._slot = slot + 1.0 / (self.spec.rate * self.spec.level(slot - self._start))
        return slot

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        _, protocol = await loop.create_connection(
            lambda: _Connection(loop), self.host, self.port
        )
        self._open.add(protocol)
        return protocol

    async def _exchange(self, loop: asyncio.AbstractEventLoop, conn: _Connection | None,
                        start: float) -> _Connection | None:
        """One request on `conn` (a new connection when None or closed); the connection to
        use next, None after a failure (recorded as a request without an answer)."""
        request = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        self.in_flight += 1
        try:
            if conn is None or not conn.keep_alive():
                if conn is not None:
                    conn.close()
                conn = None
                conn = await asyncio.wait_for(self._connect(loop), REQUEST_TIMEOUT)
            status = await conn.send(request)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.in_flight -= 1
            self.recorder.record(clock() - start, 0, False, _describe(exc))
            if conn is not None:
                conn.close()
            await asyncio.sleep(RECONNECT_PAUSE)
            return None
        self.in_flight -= 1
        message = "" if status < 300 else _error_message(bytes(conn.body))
        self.recorder.record(clock() - start, status, conn.retry_after, message)
        return conn

    async def _closed_loop(self, loop: asyncio.AbstractEventLoop, index: int) -> None:
        """Connection `index`: sends whenever the profile counts it in, until the end."""
        conn: _Connection | None = None
        try:
            while (now := clock()) < self._end:
                if index >= self.spec.active_connections(now - self._start):
                    await asyncio.sleep(IDLE_POLL)
                    continue
                conn = await self._exchange(loop, conn, now)
        finally:
            if conn is not None:
                conn.close()

    async def _open_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Starts each request at its scheduled time on an idle connection (a new one while
        fewer than `concurrency` are open; otherwise it waits, and the wait counts)."""
        idle: list[_Connection | None] = []
        free = asyncio.Semaphore(self.spec.concurrency)
        tasks: set[asyncio.Task[None]] = set()

        async def one(conn: _Connection | None, start: float) -> None:
            try:
                idle.append(await self._exchange(loop, conn, start))
            finally:
                free.release()

        try:
            while (slot := self._next_slot()) is not None:
                if slot > clock():
                    await asyncio.sleep(slot - clock())
                await free.acquire()
                task = asyncio.create_task(one(idle.pop() if idle else None, slot))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for conn in idle:
                if conn is not None:
                    conn.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {REQUEST_TIMEOUT:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return str(exc) or type(exc).__name__


def run(url: str, samples: list[bytes], spec: LoadSpec,
        on_tick: Callable[[Tick], None] = lambda _t: None,
        should_stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Run one test on a fresh event loop (uvloop when available); blocks until done."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop comes with Sanic on Linux
        runner = asyncio.Runner()

    async def main() -> Outcome:
        gen = Generator(url, samples, spec, on_tick)

        async def watch() -> None:
            while not should_stop():
                await asyncio.sleep(IDLE_POLL)
            gen.stop()

        watcher = asyncio.create_task(watch())
        try:
            return await gen.run()
        finally:
            watcher.cancel()

    with runner:
        return runner.run(main())
