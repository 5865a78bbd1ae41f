"""The REST surface: routes, verbs, subresources (status, scale, log, proxy) and watches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from tests.helpers.fakekube import proxy
from tests.helpers.fakekube.patch import apply_patch
from tests.helpers.fakekube.resources import (
    ApiError,
    Resource,
    bad_request,
    by_kind,
    lookup,
    not_found,
    success_status,
)
from tests.helpers.fakekube.watch import watch_stream

if TYPE_CHECKING:
    from tests.helpers.fakekube.fake import FakeKube

Obj = dict[str, Any]
POD = by_kind("Pod")
SERVICE = by_kind("Service")
RETURNS_DELETED_OBJECT = ("Pod", "Service")  # typed so by client 37; others return a Status


@dataclass
class Route:
    res: Resource
    namespace: str | None
    name: str | None = None
    sub: str | None = None
    tail: str = ""  # the path after `proxy`


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    stream: Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, obj: Any) -> Response:
    return Response(status, json.dumps(obj).encode())


def parse_route(path: str) -> Route | None:
    parts = [unquote(p) for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if len(rest) >= 3 and rest[0] == "namespaces" and lookup(group, version, rest[2]):
        res = lookup(group, version, rest[2])
        namespace, rest = rest[1], rest[3:]
    elif rest and lookup(group, version, rest[0]):
        res, namespace, rest = lookup(group, version, rest[0]), None, rest[1:]
    else:
        return None
    assert res is not None
    route = Route(res, namespace)
    if rest:
        route.name = rest[0]
    if len(rest) > 1:
        route.sub = rest[1]
        route.tail = "/" + "/".join(rest[2:]) if len(rest) > 2 else "/"
        if path.endswith("/") and len(rest) > 2:
            route.tail += "/"
    return route


def _truthy(value: str | None) -> bool:
    return value is not None and value not in ("", "0", "false", "False")


def _rfc3339(text: str) -> datetime:
    text = text.rstrip("Z")
    if "." in text:
        head, fraction = text.split(".", 1)
        text = f"{head}.{fraction[:6]}"
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")


class Api:
    def __init__(self, fake: FakeKube) -> None:
        self.fake = fake
        self.store = fake.store

    # ------------------------------------------------------------------ dispatch
    def handle(self, method: str, route: Route, query: dict[str, str], body: bytes,
               headers: dict[str, str]) -> Response:
        res = route.res
        verb = {"GET": "get" if route.name else "list", "POST": "create", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete"}[method]
        if self.fake.unauthorized:  # the real server answers exactly this body
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if {res.plural, f"{verb} {res.plural}"} & self.fake.forbidden:
            scope = f'in the namespace "{route.namespace}"' if route.namespace else (
                "at the cluster scope")
            raise ApiError(403, "Forbidden", f'{res.plural} is forbidden: User "fake" cannot '
                           f'{verb} resource "{res.plural}" in API group "{res.group}" {scope}')
        if {res.plural, f"{verb} {res.plural}"} & self.fake.failing:
            raise ApiError(500, "InternalError", "Internal error occurred: etcdserver: request "
                           "timed out")
        if res.namespaced and route.namespace is None and route.name is not None:
            raise not_found(res, route.name)
        namespace = route.namespace or ""
        if route.sub == "proxy":
            return self._proxy(method, route, query, body, headers)
        if route.sub and route.sub not in res.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if route.name is None:
            return self._collection(method, route, query, body)
        if route.sub == "log" and method == "GET":
            return self._log(namespace, route.name, query)
        if route.sub == "scale":
            return self._scale(method, route, body, headers)
        if method == "GET":
            return json_response(200, self.store.get(res, namespace, route.name))
        dry_run = bool(query.get("dryRun"))
        if method == "PUT":
            obj = self._body(body)
            return json_response(200, self.store.update(res, namespace, route.name, obj,
                                                        route.sub, dry_run=dry_run))
        if method == "PATCH":
            return json_response(200, self._patch(route, namespace, body, headers, dry_run))
        if method == "DELETE":
            if dry_run:
                return json_response(200, self.store.get(res, namespace, route.name))
            return self._delete(res, namespace, route.name, query, body)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    @staticmethod
    def _body(body: bytes) -> Any:
        try:
            return json.loads(body or b"null")
        except ValueError as exc:
            raise bad_request(f"the body of the request is not JSON: {exc}") from None

    def _collection(self, method: str, route: Route, query: dict[str, str], body: bytes
                    ) -> Response:
        res = route.res
        if method == "GET" and _truthy(query.get("watch")):
            stream = watch_stream(self.store, route.res, route.namespace, query,
                                  self.fake.stopping)
            return Response(200, content_type="application/json", stream=stream)
        if method == "GET":
            items, rv = self.store.list(res, route.namespace, query.get("labelSelector"),
                                        query.get("fieldSelector"))
            return json_response(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                       "metadata": {"resourceVersion": str(rv)}, "items": items})
        if method == "POST":
            obj = self._body(body)
            if not isinstance(obj, dict):
                raise bad_request("the body must be an object")
            return json_response(201, self.store.create(res, route.namespace or "", obj,
                                                        dry_run=bool(query.get("dryRun"))))
        if method == "DELETE":
            items, _ = self.store.list(res, route.namespace, query.get("labelSelector"),
                                       query.get("fieldSelector"))
            for item in items:
                meta = item["metadata"]
                self.store.delete(res, meta.get("namespace", ""), meta["name"], res is POD)
            return json_response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                       "status": "Success"})
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on a collection")

    # ------------------------------------------------------------------ verbs
    def _patch(self, route: Route, namespace: str, body: bytes, headers: dict[str, str],
               dry_run: bool = False) -> Obj:
        assert route.name is not None
        patch = self._body(body)
        with self.store.cond:
            live = self.store.get(route.res, namespace, route.name)
            merged = apply_patch(headers.get("content-type", ""), live, patch)
            precondition = isinstance(patch, dict) and (patch.get("metadata") or {}).get(
                "resourceVersion")
            if not precondition:
                merged.setdefault("metadata", {}).pop("resourceVersion", None)
            return self.store.update(route.res, namespace, route.name, merged, route.sub,
                                     dry_run=dry_run)

    def _delete(self, res: Resource, namespace: str, name: str, query: dict[str, str],
                body: bytes) -> Response:
        options = self._body(body) or {}
        policy = options.get("propagationPolicy") or query.get("propagationPolicy") or ""
        grace = options.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        if policy == "Foreground":
            def mark(obj: Obj) -> None:
                finalizers = obj["metadata"].setdefault("finalizers", [])
                if "foregroundDeletion" not in finalizers:
                    finalizers.append("foregroundDeletion")

            self.store.mutate(res, namespace, name, mark)
        graceful = res is POD and str(grace) != "0"
        graceful = graceful or res.kind == "Namespace" or policy == "Foreground"
        deleted = self.store.delete(res, namespace, name, graceful=graceful)
        if res.kind in RETURNS_DELETED_OBJECT:
            return json_response(200, deleted)
        return json_response(200, success_status(res, name, deleted["metadata"]["uid"]))

    # ------------------------------------------------------------------ scale subresource
    def _scale_of(self, route: Route, obj: Obj) -> Obj:
        meta = obj["metadata"]
        selector = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
        return {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                              "creationTimestamp") if k in meta},
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())},
        }

    def _scale(self, method: str, route: Route, body: bytes, headers: dict[str, str]
               ) -> Response:
        assert route.name is not None
        namespace = route.namespace or ""
        with self.store.cond:
            obj = self.store.get(route.res, namespace, route.name)
            scale = self._scale_of(route, obj)
            if method == "GET":
                return json_response(200, scale)
            if method == "PUT":
                wanted = self._body(body)
            elif method == "PATCH":
                wanted = apply_patch(headers.get("content-type", ""), scale, self._body(body))
            else:
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on scale")
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{route.name}" is invalid: '
                               "spec.replicas: Invalid value: must be a non-negative integer")
            version = (wanted.get("metadata") or {}).get("resourceVersion")
            obj["spec"]["replicas"] = replicas
            if method == "PATCH" and version == obj["metadata"]["resourceVersion"]:
                version = None  # the patch did not ask for a precondition
            obj["metadata"]["resourceVersion"] = version
            updated = self.store.update(route.res, namespace, route.name, obj)
            return json_response(200, self._scale_of(route, updated))

    # ------------------------------------------------------------------ logs
    def _log(self, namespace: str, name: str, query: dict[str, str]) -> Response:
        pod = self.store.get(POD, namespace, name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or containers[0]
        if container not in containers:
            raise bad_request(f"container {container} is not valid for pod {name}")
        if not pod["spec"].get("nodeName"):
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                              "ContainerCreating")
        previous = _truthy(query.get("previous"))
        lines = self.fake.logs.run(namespace, name, container, previous)
        if lines is None:
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" '
                              "not found")
        since = query.get("sinceTime")
        start = 0
        if since:
            cutoff = _rfc3339(since)
            start = next((i for i, (ts, _) in enumerate(lines) if _rfc3339(ts) >= cutoff),
                         len(lines))
        if query.get("tailLines") is not None:
            start = max(start, len(lines) - int(query["tailLines"]))
        show_time = _truthy(query.get("timestamps"))

        def render(ts: str, text: str) -> bytes:
            return (f"{ts} {text}\n" if show_time else f"{text}\n").encode()

        if not _truthy(query.get("follow")) or previous:
            body = b"".join(render(ts, text) for ts, text in lines[start:])
            return Response(200, body, "text/plain")
        follow = self.fake.logs.follow(namespace, name, container, start, self.fake.stopping)
        return Response(200, content_type="text/plain",
                        stream=(render(ts, text) for ts, text in follow))

    # ------------------------------------------------------------------ proxy
    def _proxy(self, method: str, route: Route, query: dict[str, str], body: bytes,
               headers: dict[str, str]) -> Response:
        assert route.name is not None
        namespace = route.namespace or ""
        parts = route.name.split(":")
        name = parts[1] if len(parts) == 3 else parts[0]
        if route.res is SERVICE:
            service = self.store.get(SERVICE, namespace, name)
            selector = ",".join(f"{k}={v}" for k, v in (service["spec"].get("selector") or {})
                                .items())
            pods = [p for p in self.store.list(POD, namespace, selector)[0]
                    if _ready(p) and not p["metadata"].get("deletionTimestamp")]
            if not pods:
                raise ApiError(503, "ServiceUnavailable",
                               f'no endpoints available for service "{route.name}"')
            pod = self.fake.pick(pods)
        elif route.res is POD:
            pod = self.store.get(POD, namespace, name)
            if (pod.get("status") or {}).get("phase") != "Running":
                raise ApiError(503, "ServiceUnavailable", f'pod "{name}" is not running')
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        port = self.fake.port_for(pod)
        if port is None:
            raise ApiError(503, "ServiceUnavailable",
                           f"error trying to reach service: dial tcp "
                           f"{pod['status'].get('podIP')}:8888: connect: connection refused")
        path = route.tail + ("?" + urlencode(query) if query else "")
        reply = proxy.forward(port, method, path, body or None, headers)
        return Response(reply.status, reply.body, reply.content_type or "application/json")


def _ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

