"""A deliberately slow HTTP/1.1 server on 127.0.0.1 for load-generator tests: it answers one
request at a time after `service_time` seconds, keeps connections alive, counts them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SlowServer(str):
    """The URL to POST to; `connections` counts the connections accepted."""

    connections = 0


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  lock: asyncio.Lock, service_time: float) -> None:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        await reader.readexactly(length)
        async with lock:  # one at a time, like a replica with one thread
            await asyncio.sleep(service_time)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


@contextmanager
def slow_server(service_time: float) -> Iterator[SlowServer]:
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port: list[int] = []
    serving: list[asyncio.Task[None]] = []
    url = SlowServer()

    async def main() -> None:
        lock = asyncio.Lock()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            url.connections += 1
            try:
                await _answer(r, w, lock, service_time)
            except (asyncio.IncompleteReadError, ConnectionError):
                w.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        async with server:
            serving.append(asyncio.current_task())  # type: ignore[arg-type]
            started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(5)
    url = SlowServer(f"http://127.0.0.1:{port[0]}/api")
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(serving[0].cancel)
        thread.join(5)
        loop.close()
