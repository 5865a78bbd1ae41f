"""A client sending POST requests back to back until told to stop: what a user's traffic looks
like during a rollout or a drain. Used by tests and by bench/local_rollout.py."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def request_stream(
    url: str,
    stop: threading.Event,
    answers: list[Any],
    failures: list[str],
    *,
    body: bytes = b"{}",
    keep_alive: bool = False,
    timeout: float = 20.0,
    decode: Callable[[bytes], Any] | None = None,
) -> None:
    """POST `body` to `url` until `stop` is set: a new connection per request (like curl in a
    loop), or one keep-alive connection for as long as the server keeps it open.

    A 200's body (passed through `decode` when given) goes to `answers`; any other status or a
    connection error goes to `failures` as text.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    conn: http.client.HTTPConnection | None = None
    while not stop.is_set():
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 200:
                answers.append(decode(data) if decode else data)
            else:
                failures.append(f"HTTP {resp.status}")
            if not keep_alive or resp.will_close:
                conn.close()
                conn = None
        except OSError as exc:
            failures.append(repr(exc))
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
