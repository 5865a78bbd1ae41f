"""The operator's HTTP API on 127.0.0.1: JSON in and out, every request needs the token.

Any local user can connect, so a connection costs little and never long: a bounded pool of
worker threads (further connections wait in the listen backlog), a timeout on every read and
write, and one rate-limited log line (not a traceback) per client that drops its connection.
"""

from __future__ import annotations

import hmac
import json
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cortex_tui.errors import ApiNotFound, BackendError
from cortex_tui.local.oplog import OperatorLog
from cortex_tui.local.paths import TOKEN_HEADER
from cortex_tui.local.supervisor import Supervisor

WORKERS = 16  # connections served at once; the TUI and a few CLI calls need a handful
BACKLOG = 128  # connections waiting for a worker (socketserver's default is 5)
IO_TIMEOUT = 3.0  # s: a client silent this long (mid-request or idle keep-alive) is dropped


class OperatorServer(HTTPServer):
    request_queue_size = BACKLOG

    def __init__(self, supervisor: Supervisor, token: str, info: Callable[[], dict[str, Any]],
                 on_stop: Callable[[], None], log: OperatorLog) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.supervisor = supervisor
        self.token = token
        self.info = info
        self.on_stop = on_stop
        self.log = log
        self._workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="operator-http")
        self._free = threading.Semaphore(WORKERS)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Blocks the accept loop while every worker is busy: the kernel queues the rest.
        self._free.acquire()
        self._workers.submit(self._serve, request, client_address)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as exc:
            self._dropped(client_address, exc)
        finally:
            self.shutdown_request(request)
            self._free.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.log.limited("client", f"operator API: error serving {client_address}")

    def _dropped(self, client_address: Any, exc: Exception) -> None:
        host, port = client_address[:2]
        self.log.limited("client", f"operator API: client {host}:{port} dropped "
                                   f"({type(exc).__name__})")

    def server_close(self) -> None:
        super().server_close()
        self._workers.shutdown(wait=False, cancel_futures=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _float(query: dict[str, list[str]], key: str) -> float | None:
    values = query.get(key)
    return float(values[0]) if values else None


def _str(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


class Handler(BaseHTTPRequestHandler):
    server: OperatorServer
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _dispatch(self, method: str) -> None:
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            self._send(401, {"error": "missing or wrong token"})
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        route = ROUTES.get((method, url.path))
        if route is None:
            self._send(404, {"error": f"no route {method} {url.path}"})
            return
        try:
            body = self._body() if method in ("POST", "DELETE") else {}
            self._send(200, route(self.server, query, body))
        except ApiNotFound as exc:
            self._send(404, {"error": str(exc), "api": exc.api})
        except BackendError as exc:
            self._send(400, {"error": str(exc)})
        except Exception as exc:  # report, keep serving
            self._send(500, {"error": f"operator error: {type(exc).__name__}: {exc}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


Route = Callable[[OperatorServer, dict[str, list[str]], dict[str, Any]], Any]


def _info(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return server.info()


def _deploy(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return {"changes": [asdict(c) for c in server.supervisor.deploy(b)]}


def _get(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return {"apis": [s.to_json() for s in server.supervisor.get(_str(q, "api"))]}


def _delete(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return {"deleted": server.supervisor.delete(b.get("api"))}


def _scale(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return {"api": server.supervisor.scale(b["api"], b).to_json()}


def _replicas(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return {"replicas": server.supervisor.replicas(_str(q, "api") or "")}


def _metrics(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    return asdict(server.supervisor.metrics(_str(q, "api") or "", _float(q, "since")))


def _events(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    events = server.supervisor.history.events(_str(q, "api"), _float(q, "since"))
    return {"events": [asdict(e) for e in events]}


def _decisions(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    api = _str(q, "api") or ""
    found = server.supervisor.decisions(api, _float(q, "since"))
    return {"decisions": [d.to_json() for d in found]}


def _stop(server: OperatorServer, q: dict[str, list[str]], b: dict[str, Any]) -> Any:
    threading.Thread(target=server.on_stop, daemon=True).start()
    return {"stopping": True}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/v1/info"): _info,
    ("POST", "/v1/deploy"): _deploy,
    ("GET", "/v1/apis"): _get,
    ("DELETE", "/v1/apis"): _delete,
    ("POST", "/v1/scale"): _scale,
    ("GET", "/v1/replicas"): _replicas,
    ("GET", "/v1/metrics"): _metrics,
    ("GET", "/v1/events"): _events,
    ("GET", "/v1/decisions"): _decisions,
    ("POST", "/v1/stop"): _stop,
}
