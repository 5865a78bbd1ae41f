"""Requests to replicas through the API server's service and pod proxy (no port-forward)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from urllib3.exceptions import HTTPError

from cortex_tui.errors import TargetUnavailable
from cortex_tui.kube import labels as L
from cortex_tui.kube.client import Connection, unreachable


@dataclass(frozen=True)
class ProxyReply:
    status: int
    body: Any  # decoded JSON, else the text
    from_api_server: bool  # a Kubernetes Status (no endpoints, not found), not the replica
    is_json: bool = True  # False: body is the text of an answer that was not JSON


def service_path(namespace: str, api: str, path: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace)}/services/{quote(api)}:{L.PORT_NAME}/proxy{path}"


def pod_path(namespace: str, pod: str, path: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}:{L.PORT}/proxy{path}"


def endpoint_url(conn: Connection, api: str) -> str:
    host = conn.api_client.configuration.host.rstrip("/")
    return host + service_path(conn.namespace, api, f"/{api}")


def _decode(data: bytes) -> tuple[Any, bool]:
    """The decoded JSON and True, else the text and False."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text), True
    except ValueError:
        return text, False


def request(
    conn: Connection, method: str, path: str, body: Any = None, query: list[tuple[str, str]]
    | None = None, timeout: float = 60.0,
) -> ProxyReply:
    client = conn.api_client
    headers = {"Accept": "application/json"}
    if method != "GET":
        headers["Content-Type"] = "application/json"
    _, url, headers, _, _ = client.param_serialize(
        method, path, query_params=query or [], header_params=headers,
        auth_settings=["BearerToken"],
    )
    try:
        response = client.call_api(method, url, header_params=headers, body=body,
                                   _request_timeout=timeout)
        data = response.read()
    except (HTTPError, OSError) as exc:
        raise TargetUnavailable(unreachable(exc)) from None
    decoded, is_json = _decode(data or b"")
    kube_status = (
        isinstance(decoded, dict) and decoded.get("kind") == "Status"
        and decoded.get("apiVersion") == "v1"
    )
    return ProxyReply(response.status, decoded, bool(kube_status), is_json)
