"""Requests written to attack what reads the replica's log, or a proxy in front of it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.predictor_process import Predictor

ESCAPES = "\x1b]0;owned\x07\x1b[2J\u009b31m".encode()  # OSC title, bell, clear, C1 CSI


def _raw(port: int, data: bytes) -> bytes:
    """Send `data` as is; the status line of the answer (b"" when none came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.fixture
def replica(start_predictor: Callable[..., Predictor], project: Callable[..., Path]) -> Predictor:
    return start_predictor(project()).wait_ready()


def test_request_data_reaches_the_log_with_control_characters_escaped(replica: Predictor) -> None:
    assert replica.port is not None
    body = b'"' + ESCAPES + b'"'
    _raw(replica.port, b"POST /predict?debug=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    _raw(replica.port, b"GET /%ZZ" + ESCAPES.replace("\u009b".encode(), b"") +
         b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    replica.wait_line(r"debug: sample: ")
    replica.wait_line(r"Bad URL")
    log = replica.output
    assert not any(c in log for c in "\x1b\x07\x9b"), repr(log[-600:])
    assert '"\\x1b]0;owned\\x07\\x1b[2J\\x9b31m"' in log
    assert "/%ZZ\\x1b]0;owned\\x07\\x1b[2J31m" in log


@pytest.mark.parametrize("header", [b"Host : x", b"Transfer-Encoding : chunked"])
def test_whitespace_before_a_header_colon_is_refused(replica: Predictor, header: bytes) -> None:
    assert replica.port is not None
    head = b"Host: x\r\n" if not header.startswith(b"Host") else b""
    status = _raw(replica.port, b"POST /predict HTTP/1.1\r\n" + head + header +
                  b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert status == b"HTTP/1.1 400 Bad Request"


def test_whitespace_before_a_header_colon_is_refused_on_the_admin_routes_too(
        replica: Predictor) -> None:
    assert replica.port is not None
    for path in (b"/stats", b"/healthz"):
        status = _raw(replica.port, b"GET " + path + b" HTTP/1.1\r\nHost : x\r\n"
                      b"Connection: close\r\n\r\n")
        assert status == b"HTTP/1.1 400 Bad Request"
