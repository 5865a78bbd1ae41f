"""The pod port-forward subresource over a websocket (protocol v4.channel.k8s.io), as the
kubernetes client's `stream.portforward` speaks it: channel 0 carries the data, channel 1 the
errors, each opened by a frame holding the port number. The data goes to the pod's real process
on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from typing import Any, BinaryIO

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOL = "v4.channel.k8s.io"
BINARY, CLOSE = 0x2, 0x8


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(payload: bytes, opcode: int = BINARY) -> bytes:
    """A server frame (not masked)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def read_frame(rfile: BinaryIO) -> tuple[int, bytes] | None:
    """(opcode, payload) of the next client frame (masked); None at the end of the stream."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", rfile.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b""
    data = rfile.read(length)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def serve(handler: Any, target_port: int, pod_port: int) -> None:
    """Take over the handler's connection: the websocket handshake, then carry channel 0 to
    127.0.0.1:`target_port` and back, until either side closes."""
    offered = handler.headers.get("Sec-WebSocket-Protocol", "")
    if PROTOCOL not in [p.strip() for p in offered.split(",")]:
        handler.send_error(400, f"port-forward needs the {PROTOCOL} websocket protocol")
        return
    handler.send_response(101)
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(handler.headers["Sec-WebSocket-Key"]))
    handler.send_header("Sec-WebSocket-Protocol", PROTOCOL)
    handler.end_headers()
    handler.close_connection = True
    port_bytes = struct.pack("<H", pod_port)
    wfile, lock = handler.wfile, threading.Lock()

    def send(payload: bytes, opcode: int = BINARY) -> None:
        with lock:
            wfile.write(frame(payload, opcode))
            wfile.flush()

    try:
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
    except OSError as exc:
        send(b"\x00" + port_bytes)
        send(b"\x01" + port_bytes)
        send(b"\x01" + f"error forwarding port {pod_port}: {exc}".encode())
        send(b"", CLOSE)
        return
    upstream.settimeout(None)
    send(b"\x00" + port_bytes)
    send(b"\x01" + port_bytes)
    reader = threading.Thread(target=_client_to_pod, args=(handler.rfile, upstream),
                              daemon=True)
    reader.start()
    try:
        while data := upstream.recv(65536):
            send(b"\x00" + data)
        send(b"", CLOSE)
    except OSError:
        pass  # the client went away
    finally:
        upstream.close()
        reader.join(5)


def _client_to_pod(rfile: BinaryIO, upstream: socket.socket) -> None:
    try:
        while (got := read_frame(rfile)) is not None:
            opcode, data = got
            if opcode == CLOSE:
                break
            if opcode == BINARY and data[:1] == b"\x00" and len(data) > 1:
                upstream.sendall(data[1:])
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_RDWR)
