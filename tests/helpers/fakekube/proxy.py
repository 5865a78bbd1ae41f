"""Forwarding the API server's service and pod proxy to real processes on 127.0.0.1."""

from __future__ import annotations

import http.client
from dataclasses import dataclass

from tests.helpers.fakekube.resources import ApiError

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def forward(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> Reply:
    sent = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path or "/", body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, response.getheader("Content-Type") or "", data)
    except OSError as exc:
        raise ApiError(
            503, "ServiceUnavailable",
            f"error trying to reach service: dial tcp 127.0.0.1:{port}: {exc}",
        ) from None
    finally:
        connection.close()
