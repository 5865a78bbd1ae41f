"""The Kubernetes target: each API is a Deployment, a Service and an HPA (SPEC §8).

Everything talks to the API server through the official client: predictions go through the
service proxy and `/stats` scrapes through the pod proxy, so no ingress is needed. Load tests,
which the service proxy would throttle, open a port-forward to the pods for their duration.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from cortex_tui.autoscale import hpa_decision
from cortex_tui.config.model import Project
from cortex_tui.config.scaling import ScaleError, apply_scale
from cortex_tui.errors import ApiNotFound, BackendError
from cortex_tui.interface import Backend, LogStream
from cortex_tui.kube import apply as kube_apply
from cortex_tui.kube import labels as L
from cortex_tui.kube import logs as kube_logs
from cortex_tui.kube import objects, proxy
from cortex_tui.kube.client import Connection, connect
from cortex_tui.kube.metrics import Rates, Series
from cortex_tui.kube.objects import call
from cortex_tui.kube.portforward import PortForwarder
from cortex_tui.kube.project import S3Location, bundle_for, upload_bundle
from cortex_tui.kube.render import (
    RenderContext,
    namespace_manifest,
    render_hpa,
    render_pdb,
    render_project,
)
from cortex_tui.kube.status import (
    ApiObjects,
    api_state,
    bounds,
    current_pods,
    hpa_cpu,
    is_ready,
    tracker_type,
)
from cortex_tui.replica_stats import merge_batching, merge_network, merge_tracker, signature
from cortex_tui.settings import Environment
from cortex_tui.types import (
    ApiState,
    Decision,
    DeployChange,
    DeployResult,
    Event,
    EventKind,
    LoadTarget,
    LogLine,
    Metrics,
    PredictResult,
    ScaleRequest,
    Status,
    TargetInfo,
)

if TYPE_CHECKING:  # imports boto3
    from cortex_tui.cluster import ClusterService

SCRAPE_TIMEOUT = 5.0
SCRAPE_WORKERS = 8
# Kubernetes event reasons, as the event kinds the TUI shows.
EVENT_KINDS: dict[str, EventKind] = {
    "ScalingReplicaSet": "scaled", "SuccessfulRescale": "scaled",
    "FailedScheduling": "pending", "BackOff": "failed", "Failed": "failed",
    "FailedCreate": "failed", "OOMKilling": "failed", "Unhealthy": "failed",
}
STATUS_EVENTS: dict[Status, EventKind] = {
    Status.LIVE: "ready", Status.ERROR: "failed", Status.OUT_OF_MEMORY: "failed",
    Status.COMPUTE_UNAVAILABLE: "pending", Status.UPDATING: "updated",
    Status.STOPPING: "deleted",
}


def _timestamp(value: Any) -> float:
    """A Kubernetes time (a datetime from the client, or RFC 3339 text) as unix time."""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _cloudwatch_history(environment: Environment) -> Any:
    """History from CloudWatch when the environment has `aws.cloudwatch_namespace` (issue 7)."""
    if environment.aws is None or not environment.aws.cloudwatch_namespace:
        return None
    from cortex_tui.aws.monitoring import CloudWatchHistory

    return CloudWatchHistory(environment.aws)


F = TypeVar("F", bound=Callable[..., Any])


def _plain_errors(method: F) -> F:
    """Answers of the cluster that no code path expects (a 500, a 429...) become a
    BackendError: one line for the CLI and the TUI, never the client's traceback."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            raise objects.unexpected(exc) from None

    return wrapper  # type: ignore[return-value]


def _plain_lines(lines: Iterator[LogLine]) -> Iterator[LogLine]:
    """The same for log lines, read lazily by the caller."""
    try:
        yield from lines
    except ApiException as exc:
        raise objects.unexpected(exc) from None


class KubernetesBackend(Backend):
    supports_cluster = True
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.env_name = environment.name
        self._conn: Connection | None = None
        self._series = Series()
        self._rates = Rates()
        self._events: list[Event] = []
        self._last_status: dict[str, Status] = {}
        self._lock = threading.Lock()
        self._cloudwatch = _cloudwatch_history(environment)  # None unless CloudWatch is on

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = connect(self.environment)
        return self._conn

    def cluster(self) -> ClusterService:
        from cortex_tui.cluster import ClusterService  # imports boto3: only when asked

        return ClusterService(self.environment)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.api_client.close()
            self._conn = None

    # ------------------------------------------------------------------ target
    @_plain_errors
    def target_info(self) -> TargetInfo:
        try:
            nodes = call("list nodes", self.conn.core.list_node).items or []
        except objects.Forbidden:
            nodes = []  # a namespaced user may not list nodes: show the namespace anyway
        cpu, memory, gpu = 0.0, 0, 0
        for node in nodes:
            allocatable = (node.status.allocatable if node.status else None) or {}
            cpu += float(parse_quantity(allocatable.get("cpu", "0")))
            memory += int(parse_quantity(allocatable.get("memory", "0")))
            gpu += int(parse_quantity(allocatable.get(L.GPU_RESOURCE, "0")))
        return TargetInfo(kind="kubernetes", name=self.environment.name,
                          namespace=self.conn.namespace, nodes=len(nodes), cpu=cpu,
                          memory=memory, gpu=gpu)

    # ------------------------------------------------------------------ deploy
    @_plain_errors
    def deploy(self, project: Project, force: bool = False) -> DeployResult:
        conn = self.conn
        bundle = bundle_for(project)
        bundle_uri = None
        ships = any(spec.image is None for spec in project.apis)  # else all in their images
        if self.environment.project_store and ships:
            location = S3Location.parse(self.environment.project_store)
            bundle_uri, _ = upload_bundle(bundle, location, project.deployment_name,
                                          self.environment.aws)
        ctx = RenderContext.for_environment(self.environment, conn.namespace, bundle_uri)
        manifests = render_project(project, ctx, bundle)  # refuses oversized projects: no write
        self._refuse_foreign_apis(project)
        kube_apply.ensure_namespace(conn, namespace_manifest(conn.namespace))
        # Plan from reads, let the server check every write (dry run), then write: a refused
        # object stops the deploy before anything changed.
        plans = [kube_apply.plan_api(conn, api, force) for api in manifests]
        removed = kube_apply.managed_apis(conn, project.deployment_name) - set(project.api_names)
        for plan in plans:
            kube_apply.try_plan(conn, plan)
        changes = [kube_apply.commit_plan(conn, plan) for plan in plans]
        for api in sorted(removed):
            kube_apply.delete_api(conn, api)
            self._series.forget(api)
            self._rates.forget(api)
            changes.append(DeployChange(api, "deleted"))
        for change in changes:
            if change.action in ("created", "updated", "deleted"):
                kind: EventKind = "deployed" if change.action == "created" else change.action
                self._record(change.api, kind, change.message or change.action)
        return DeployResult(tuple(changes))

    def _refuse_foreign_apis(self, project: Project) -> None:
        """An API of the same name deployed from another project is not ours to replace."""
        for deployment in objects.list_objects(self.conn, "Deployment", L.MANAGED_SELECTOR):
            labels = deployment["metadata"].get("labels") or {}
            owner = labels.get(L.PART_OF)
            if labels.get(L.NAME) in project.api_names and owner != project.deployment_name:
                raise BackendError(
                    f'api "{labels[L.NAME]}" already runs in namespace {self.conn.namespace} '
                    f'for the deployment "{owner}"; delete it there first, or rename the API'
                )

    # ------------------------------------------------------------------ get
    def _gather(self) -> dict[str, ApiObjects]:
        conn, selector = self.conn, L.MANAGED_SELECTOR
        found: dict[str, ApiObjects] = {}

        def slot(obj: dict[str, Any]) -> ApiObjects | None:
            name = (obj["metadata"].get("labels") or {}).get(L.NAME)
            return found.setdefault(name, ApiObjects(name)) if name else None

        for deployment in objects.list_objects(conn, "Deployment", selector):
            if entry := slot(deployment):
                entry.deployment = deployment
        for hpa in objects.list_objects(conn, "HorizontalPodAutoscaler", selector):
            if (entry := slot(hpa)) and entry.deployment is not None:
                entry.hpa = hpa
        replicasets = call("list replicasets", conn.apps.list_namespaced_replica_set,
                           conn.namespace, label_selector=selector)
        for item in replicasets.items or []:
            replicaset = objects.to_dict(conn, item)
            if (entry := slot(replicaset)) and entry.deployment is not None:
                entry.replicasets.append(replicaset)
        pods = call("list pods", conn.core.list_namespaced_pod, conn.namespace,
                    label_selector=selector)
        for item in pods.items or []:
            pod = objects.to_dict(conn, item)
            if entry := slot(pod):
                entry.pods.append(pod)
        # Pods whose Deployment is gone are an API still stopping; HPAs alone are leftovers.
        return {n: e for n, e in found.items() if e.deployment is not None or e.pods}

    @_plain_errors
    def get(self, api: str | None = None) -> list[ApiState]:
        found = self._gather()
        if api is not None and api not in found:
            raise ApiNotFound(api)
        names = [api] if api is not None else sorted(found)
        states = {n: api_state(found[n], proxy.endpoint_url(self.conn, n)) for n in names}
        serving = [found[n] for n, s in states.items() if s.status is not Status.STOPPING]
        for name, stats in self._scrape(serving).items():
            model_type = tracker_type(found[name].deployment)
            values = list(stats.values())
            states[name] = replace(states[name], network=merge_network(values),
                                   tracker=merge_tracker(values, model_type),
                                   signature=signature(values),
                                   request_rate=self._rates.rate(name, time.time(), stats))
        if api is not None and self._cloudwatch is not None:  # `get API`: totals outlive pods
            states[api] = self._cloudwatch.state(states[api])
        for state in states.values():
            self._note_status(state)
        return [states[n] for n in names]

    def _note_status(self, state: ApiState) -> None:
        with self._lock:
            before = self._last_status.get(state.name)
            self._last_status[state.name] = state.status
        if before is not None and before != state.status:
            message = f"{before} -> {state.status}" + (f": {state.message}" if state.message
                                                       else "")
            self._record(state.name, STATUS_EVENTS.get(state.status, "updated"), message)

    def _record(self, api: str, kind: EventKind, message: str) -> None:
        with self._lock:
            self._events.append(Event(time.time(), api, kind, message))

    # ------------------------------------------------------------------ delete
    @_plain_errors
    def delete(self, api: str | None = None) -> list[str]:
        conn = self.conn
        names = [api] if api is not None else sorted(kube_apply.managed_apis(conn))
        deleted = []
        for name in names:
            if not kube_apply.delete_api(conn, name):
                if api is not None:
                    raise ApiNotFound(api)
                continue
            self._series.forget(name)
            self._rates.forget(name)
            self._record(name, "deleted", "deleted")
            deleted.append(name)
        return deleted

    # ------------------------------------------------------------------ logs
    def _require(self, api: str) -> dict[str, Any]:
        deployment = objects.read(self.conn, "Deployment", api)
        if deployment is None or (deployment["metadata"].get("labels") or {}).get(
            L.MANAGED_BY
        ) != L.MANAGER:
            raise ApiNotFound(api)
        return deployment

    @_plain_errors
    def logs(self, api: str, follow: bool = False, tail: int | None = None) -> LogStream:
        self._require(api)
        if follow:
            stream = kube_logs.follow_logs(self.conn, api, tail)
            return LogStream(_plain_lines(stream), wake=stream.close)
        return LogStream(_plain_lines(kube_logs.read_logs(self.conn, api, tail)))

    # ------------------------------------------------------------------ predict
    @_plain_errors
    def predict(self, api: str, sample: Any, debug: bool = False) -> PredictResult:
        path = proxy.service_path(self.conn.namespace, api, f"/{api}")
        started = time.perf_counter()
        reply = proxy.request(self.conn, "POST", path, body=sample,
                              query=[("debug", "true")] if debug else None)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.from_api_server:
            message = reply.body.get("message") or reply.body.get("reason") or "refused"
            if reply.status == 404:
                raise ApiNotFound(api)
            if reply.status == 503:
                raise BackendError(f'api "{api}" has no ready replica to answer: {message}')
            raise BackendError(f'api "{api}": the cluster refused the request: {message}')
        return PredictResult(status=reply.status, body=reply.body, elapsed_ms=elapsed,
                             is_json=reply.is_json)

    # ------------------------------------------------------------------ load tests
    supports_load_test = True

    @contextlib.contextmanager
    def load_target(self, api: str) -> Iterator[LoadTarget]:
        """The API's ready pods through a port-forward opened for the test."""
        objs = self._gather().get(api)
        if objs is None or objs.deployment is None:
            raise ApiNotFound(api)
        pods = [p["metadata"]["name"] for p in current_pods(objs)
                if is_ready(p) and not p["metadata"].get("deletionTimestamp")]
        if not pods:
            raise BackendError(f'api "{api}" has no ready replica to load-test')
        with PortForwarder(self.conn, pods) as forwarder:
            yield LoadTarget(f"http://127.0.0.1:{forwarder.port}/{api}",
                             f"port-forward to {len(pods)} pod{'s' if len(pods) > 1 else ''}")

    # ------------------------------------------------------------------ scale
    @_plain_errors
    def scale(self, api: str, request: ScaleRequest) -> ApiState:
        conn = self.conn
        deployment = self._require(api)
        hpa = objects.read(conn, "HorizontalPodAutoscaler", api)
        current = bounds(ApiObjects(api, deployment, hpa))
        replicas = deployment["spec"].get("replicas", current.min_replicas)
        current = replace(current, init_replicas=min(max(replicas, current.min_replicas),
                                                     current.max_replicas))
        try:
            wanted = apply_scale(current, request.min_replicas, request.max_replicas,
                                 request.init_replicas, request.target_cpu_utilization)
        except ScaleError as exc:
            raise BackendError(f'api "{api}": {exc}') from None
        if wanted.min_replicas == 0:
            raise BackendError(f'api "{api}": min_replicas must be greater than 0 on Kubernetes: '
                               "the HorizontalPodAutoscaler cannot scale to zero")
        group = deployment["metadata"]["labels"].get(L.PART_OF, api)
        for manifest in (render_hpa(api, conn.namespace, group, wanted),
                         render_pdb(api, conn.namespace, group, wanted)):  # follows min_replicas
            step = kube_apply.plan_object(conn, manifest)
            kube_apply.commit_step(conn, kube_apply.try_step(conn, step))
        target = wanted.init_replicas if request.init_replicas is not None else min(
            max(replicas, wanted.min_replicas), wanted.max_replicas)
        if target != replicas:
            call(f"scale Deployment {api}", conn.apps.patch_namespaced_deployment_scale, api,
                 conn.namespace, {"spec": {"replicas": target}})
        self._record(api, "scaled", f"min {wanted.min_replicas}, max {wanted.max_replicas}, "
                     f"target cpu {wanted.target_cpu_utilization}%")
        return self.get(api)[0]

    # ------------------------------------------------------------------ metrics
    def _scrape_pod(self, pod: str) -> dict[str, Any] | None:
        path = proxy.pod_path(self.conn.namespace, pod, "/stats")
        try:
            reply = proxy.request(self.conn, "GET", path, timeout=SCRAPE_TIMEOUT)
        except BackendError:
            return None
        return reply.body if reply.status == 200 and isinstance(reply.body, dict) else None

    def _scrape(self, apis: list[ApiObjects]) -> dict[str, dict[str, dict[str, Any]]]:
        """`/stats` of every ready pod of these APIs, in parallel: {api: {pod: stats}}."""
        targets = [(objs.name, pod["metadata"]["name"]) for objs in apis for pod in objs.pods
                   if is_ready(pod) and not pod["metadata"].get("deletionTimestamp")]
        result: dict[str, dict[str, dict[str, Any]]] = {objs.name: {} for objs in apis}
        if not targets:
            return result
        with ThreadPoolExecutor(max_workers=min(SCRAPE_WORKERS, len(targets))) as pool:
            answers = pool.map(lambda target: self._scrape_pod(target[1]), targets)
            for (api, pod), stats in zip(targets, answers, strict=True):
                if stats is not None:
                    result[api][pod] = stats
        return result

    @_plain_errors
    def metrics(self, api: str, since: float | None = None) -> Metrics:
        objs = self._gather().get(api)
        if objs is None or objs.deployment is None:
            raise ApiNotFound(api)
        stats = self._scrape([objs])[api]
        ready = sum(1 for p in current_pods(objs) if is_ready(p))
        self._series.observe(api, time.time(), stats, objs.deployment["spec"].get("replicas", 0),
                             ready, hpa_cpu(objs.hpa))
        model_type = tracker_type(objs.deployment)
        values = list(stats.values())
        live = Metrics(api=api, points=self._series.points(api, since),
                       network=merge_network(values), tracker=merge_tracker(values, model_type),
                       batching=merge_batching(values))
        return live if self._cloudwatch is None else self._cloudwatch.metrics(live, since)

    # ------------------------------------------------------------------ events
    @_plain_errors
    @_plain_errors
    def decisions(self, api: str, since: float | None = None) -> list[Decision]:
        """The cluster's HPA decides: its rescale events, then its conditions as they stand."""
        conn = self.conn
        self._require(api)
        hpa = objects.read(conn, "HorizontalPodAutoscaler", api) or {}
        try:
            items = call("list events", conn.core.list_namespaced_event, conn.namespace).items
        except ApiException as exc:
            raise BackendError(f"cannot list events: {objects.status_reason(exc)}") from None
        found = [hpa_decision(stamp.timestamp(), f"{item.reason}: {item.message or ''}")
                 for item in items or []
                 if item.involved_object is not None
                 and item.involved_object.kind == "HorizontalPodAutoscaler"
                 and item.involved_object.name == api
                 and (stamp := item.last_timestamp or item.event_time or item.first_timestamp)]
        for condition in (hpa.get("status") or {}).get("conditions") or []:
            stamp = condition.get("lastTransitionTime")
            t = _timestamp(stamp) if stamp else time.time()
            found.append(hpa_decision(t, f"{condition.get('type')}={condition.get('status')}: "
                                         f"{condition.get('reason')}: {condition.get('message')}"))
        found.sort(key=lambda d: d.t)
        return [d for d in found if since is None or d.t >= since]

    def events(self, api: str | None = None, since: float | None = None) -> list[Event]:
        conn = self.conn
        names = [api] if api is not None else sorted(kube_apply.managed_apis(conn))
        patterns = [(n, re.compile(rf"^{re.escape(n)}(-[a-z0-9]{{5,10}}(-[a-z0-9]{{5}})?)?$"))
                    for n in names]
        try:
            items = call("list events", conn.core.list_namespaced_event, conn.namespace).items
        except ApiException as exc:
            raise BackendError(f"cannot list events: {objects.status_reason(exc)}") from None
        found: list[Event] = []
        for item in items or []:
            kind = EVENT_KINDS.get(item.reason or "")
            involved = item.involved_object.name if item.involved_object else ""
            owner = next((n for n, pattern in patterns if pattern.match(involved or "")), None)
            stamp = item.last_timestamp or item.event_time or item.first_timestamp
            if kind is None or owner is None or stamp is None:
                continue
            found.append(Event(stamp.timestamp(), owner, kind,
                               f"{involved}: {item.reason}: {item.message or ''}".strip()))
        with self._lock:
            found += [e for e in self._events if api is None or e.api == api]
        return sorted((e for e in found if since is None or e.t >= since), key=lambda e: e.t)
