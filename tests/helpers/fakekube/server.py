"""HTTP plumbing: a threaded server on 127.0.0.1 that speaks JSON and chunked streams."""

from __future__ import annotations

import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from tests.helpers.fakekube import portforward
from tests.helpers.fakekube.api import POD, Response, json_response, parse_route
from tests.helpers.fakekube.resources import ApiError

if TYPE_CHECKING:
    from tests.helpers.fakekube.fake import FakeKube

VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.0-fakekube", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22",
    "compiler": "gc", "platform": "linux/amd64",
}


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeKube


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: FakeHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests read fake.requests instead

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        if method == "GET" and (self.headers.get("Upgrade") or "").lower() == "websocket":
            self._upgrade(url.path, dict(parse_qsl(url.query)))
            return
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        try:
            response = self._route(method, url.path, query, body, headers)
        except ApiError as exc:
            response = json_response(exc.code, exc.status())
        except Exception as exc:  # a bug in the fake: answer 500 and show it
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, ApiError(500, "InternalError", repr(exc)).status())
        fake.record_request(method, self.path, response.status)
        self._send(response)

    def _upgrade(self, path: str, query: dict[str, str]) -> None:
        """A websocket: the pod port-forward subresource (the only one the fake speaks)."""
        fake = self.server.fake
        route = parse_route(path)
        try:
            if route is None or route.sub != "portforward" or route.name is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            pod = fake.api.store.get(POD, route.namespace or "", route.name)
            pod_port = int(query.get("ports", "0").split(",")[0])
            target = fake.port_for(pod)
            if target is None or (pod.get("status") or {}).get("phase") != "Running":
                raise ApiError(400, "BadRequest", f'pod "{route.name}" is not running')
        except ApiError as exc:
            fake.record_request("GET", self.path, exc.code)
            self._send(json_response(exc.code, exc.status()))
            return
        fake.record_request("GET", self.path, 101)
        portforward.serve(self, target, pod_port)

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes,
               headers: dict[str, str]) -> Response:
        if path == "/version":
            return json_response(200, VERSION)
        if path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain")
        route = parse_route(path)
        if route is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self.server.fake.api.handle(method, route, query, body, headers)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.stream is None:
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in response.stream:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (closed watch, stopped follow)
        finally:
            if response.stream is not None:
                close = getattr(response.stream, "close", None)
                if close:
                    close()


def serve(fake: FakeKube) -> FakeHTTPServer:
    server = FakeHTTPServer(("127.0.0.1", 0), Handler)
    server.fake = fake
    return server



