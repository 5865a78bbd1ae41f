"""The `local` target: a `Backend` that talks to the local operator daemon (started on demand)."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cortex_tui.config.model import Project
from cortex_tui.errors import BackendError
from cortex_tui.interface import Backend, LogStream
from cortex_tui.local import logfiles
from cortex_tui.local.client import OperatorClient
from cortex_tui.types import (
    ApiState,
    BatchingStats,
    ColdStart,
    Decision,
    DeployChange,
    DeployResult,
    Event,
    GpuDevice,
    LoadTarget,
    LogLine,
    Metrics,
    MetricsPoint,
    NetworkStats,
    PredictResult,
    RegressionStats,
    ReplicaEndpoint,
    ScaleRequest,
    Status,
    TargetInfo,
    TrackerStats,
)
from predictor.logs import escape_control

FOLLOW_POLL = 0.25  # seconds between looks at the log files when following


class LocalBackend(Backend):
    supports_operator = True

    def __init__(self, client: OperatorClient | None = None) -> None:
        self.client = client or OperatorClient()

    def stop_operator(self) -> tuple[bool, int]:
        """`local stop`: the operator and every replica. (An operator was answering, how many
        leftover processes of ours were killed.)"""
        return self.client.stop()

    def operator_pid(self) -> int | None:
        return self.client.running_pid()

    def operator_info(self) -> dict[str, Any]:
        """The running operator's pid, settings and node facts (starts it when needed)."""
        return dict(self.client.call("GET", "/v1/info"))

    def target_info(self) -> TargetInfo:
        info = self.client.call("GET", "/v1/info")
        return TargetInfo(kind="local", name="local", nodes=1, cpu=info["cpu_millis"] / 1000,
                          memory=info["memory"], gpu=info["gpu"],
                          gpus=tuple(GpuDevice(**d) for d in info.get("gpus") or ()))

    def deploy(self, project: Project, force: bool = False) -> DeployResult:
        payload = {
            "root": str(Path(project.root).resolve()),
            "config_file": str(project.config_file),
            "deployment": project.deployment_name,
            "apis": [spec.to_dict() for spec in project.apis],
            "force": force,
        }
        data = self.client.call("POST", "/v1/deploy", payload)
        return DeployResult(tuple(DeployChange(**c) for c in data["changes"]))

    def get(self, api: str | None = None) -> list[ApiState]:
        data = self.client.call("GET", "/v1/apis", query={"api": api})
        return [api_state_from_json(item) for item in data["apis"]]

    def delete(self, api: str | None = None) -> list[str]:
        return list(self.client.call("DELETE", "/v1/apis", {"api": api})["deleted"])

    def scale(self, api: str, request: ScaleRequest) -> ApiState:
        body = {"api": api, **{k: v for k, v in request.__dict__.items() if v is not None}}
        return api_state_from_json(self.client.call("POST", "/v1/scale", body)["api"])

    def metrics(self, api: str, since: float | None = None) -> Metrics:
        data = self.client.call("GET", "/v1/metrics", query={"api": api, "since": since})
        return Metrics(
            api=data["api"],
            points=tuple(MetricsPoint(**p) for p in data["points"]),
            network=NetworkStats(**data["network"]),
            tracker=_tracker(data["tracker"]),
            batching=None if data.get("batching") is None else BatchingStats(**data["batching"]),
        )

    def events(self, api: str | None = None, since: float | None = None) -> list[Event]:
        data = self.client.call("GET", "/v1/events", query={"api": api, "since": since})
        return [Event(**e) for e in data["events"]]

    def decisions(self, api: str, since: float | None = None) -> list[Decision]:
        data = self.client.call("GET", "/v1/decisions", query={"api": api, "since": since})
        return [Decision.from_json(d) for d in data["decisions"]]

    def predict(self, api: str, sample: Any, debug: bool = False) -> PredictResult:
        """POST to the API's endpoint. Without a running replica (error, back-off, compute
        unavailable) a connection would wait in the endpoint's queue: fail at once instead."""
        state = self.get(api)[0]
        running = [r for r in self._replicas(api) if r["alive"] and r["state"] != "stopping"]
        asleep = state.min_replicas == 0 and state.requested == 0 and state.failed == 0
        if state.endpoint is not None and asleep:  # scaled to zero: the request wakes one
            return post_json(state.endpoint, sample, debug)
        if state.endpoint is None or not running:
            raise BackendError(_cannot_answer(state, "no replica is running"))
        try:
            return post_json(state.endpoint, sample, debug)
        except BackendError:
            if any(r["state"] == "ready" for r in running):
                raise
            raise BackendError(_cannot_answer(state, "no replica is ready yet")) from None

    supports_load_test = True

    @contextlib.contextmanager
    def load_target(self, api: str) -> Iterator[LoadTarget]:
        state = self.get(api)[0]
        running = [r for r in self._replicas(api) if r["alive"] and r["state"] != "stopping"]
        if state.endpoint is None or not running:
            raise BackendError(_cannot_answer(state, "no replica is running"))
        yield LoadTarget(state.endpoint, f"local endpoint {urlsplit(state.endpoint).netloc}")

    def logs(self, api: str, follow: bool = False, tail: int | None = None) -> LogStream:
        """Every replica's lines; a follow ends within one poll (FOLLOW_POLL) of `close()`."""
        replicas = self._replicas(api)
        if not follow:
            return LogStream(iter(list(_read_all(replicas, {}, tail))))
        closed = threading.Event()
        return LogStream(self._follow(api, replicas, tail, closed), wake=closed.set)

    def _replicas(self, api: str) -> list[dict[str, Any]]:
        return list(self.client.call("GET", "/v1/replicas", query={"api": api})["replicas"])

    def _follow(self, api: str, replicas: list[dict[str, Any]], tail: int | None,
                closed: threading.Event) -> Iterator[LogLine]:
        """The log files of an API's replicas, as they grow (replicas come and go meanwhile)."""
        cursors: dict[str, logfiles.Cursor] = {}
        yield from _read_all(replicas, cursors, tail)
        next_listing = time.monotonic() + 1.0
        while not closed.wait(FOLLOW_POLL):
            yield from _read_all(replicas, cursors, None)
            if time.monotonic() >= next_listing:
                replicas = self._replicas(api)
                next_listing = time.monotonic() + 1.0


def _read_all(replicas: list[dict[str, Any]], cursors: dict[str, logfiles.Cursor],
              tail: int | None) -> Iterator[LogLine]:
    """New complete lines of each replica's log since `cursors` (updated); a replica read for
    the first time starts with its rotated generation, so a rotation hides nothing recent."""
    for replica in replicas:
        name, path = replica["name"], Path(replica["log"])
        if name in cursors:
            lines = logfiles.read_new(path, cursors[name])
        else:
            lines, cursors[name] = logfiles.read_all(path)
        for text in lines if tail is None else lines[max(len(lines) - tail, 0):]:
            yield LogLine(name, escape_control(text))


def _cannot_answer(state: ApiState, why: str) -> str:
    status = str(state.status) + (f": {state.message}" if state.message else "")
    return f'api "{state.name}" cannot answer: {why} (status {status})'


def post_json(endpoint: str, sample: Any, debug: bool, timeout: float = 60.0) -> PredictResult:
    """POST `sample` to a prediction endpoint; the replica's status and decoded body.

    A connection reset before the request was read is tried once more: after an operator
    restart that could not take the endpoint socket back, the next rollout can reset the
    connections queued on the old socket (see README, the local target). A connection closed
    after the request was read (the replica crashed on it) is not retried.
    """
    url = urlsplit(endpoint)
    path = (url.path or "/") + ("?debug=true" if debug else "")
    body = json.dumps(sample).encode()
    started = time.perf_counter()
    for attempt in (1, 2):
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            break
        except http.client.RemoteDisconnected:  # it read the request: never send it twice
            raise BackendError(f"{endpoint} closed the connection without answering (did the "
                               f"replica crash? its logs tell)") from None
        except (ConnectionResetError, BrokenPipeError):
            if attempt == 2:
                raise BackendError(f"{endpoint} reset the connection twice") from None
        except OSError as exc:
            raise BackendError(f"cannot reach {endpoint}: {exc}") from None
        finally:
            conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    try:
        decoded: Any = json.loads(raw)
    except ValueError:
        return PredictResult(resp.status, raw.decode("utf-8", "replace"), elapsed, is_json=False)
    return PredictResult(status=resp.status, body=decoded, elapsed_ms=elapsed)


def _tracker(data: dict[str, Any] | None) -> TrackerStats | None:
    if data is None:
        return None
    reg = data.get("regression_stats")
    return TrackerStats(
        model_type=data["model_type"],
        class_distribution=data.get("class_distribution"),
        regression_stats=None if reg is None else RegressionStats(
            min=reg["min"], max=reg["max"], avg=reg["avg"], sample_count=reg["sample_count"],
            histogram=tuple((float("inf") if b is None else float(b), int(c))
                            for b, c in reg["histogram"]),
        ),
    )


def api_state_from_json(data: dict[str, Any]) -> ApiState:
    """Inverse of `ApiState.to_json` (the operator's wire format)."""
    net = data.get("network_stats") or {}
    model_type = data.get("tracker_model_type")
    tracker = None
    if model_type is not None:
        tracker = _tracker({"model_type": model_type,
                            "class_distribution": data.get("class_distribution"),
                            "regression_stats": data.get("regression_stats")})
    return ApiState(
        name=data["name"], status=Status(data["status"]), message=data.get("message", ""),
        up_to_date=data["up_to_date"], available=data["available"],
        requested=data["requested"], failed=data.get("failed", 0),
        min_replicas=data["min_replicas"], max_replicas=data["max_replicas"],
        init_replicas=data.get("init_replicas", data["min_replicas"]),
        target_cpu_utilization=data["target_cpu_utilization"], endpoint=data.get("endpoint"),
        last_update=data.get("last_update"), network=NetworkStats(**net), tracker=tracker,
        replicas=tuple(ReplicaEndpoint(**dict(r, gpus=tuple(r.get("gpus") or ())))
                       for r in data.get("replicas") or ()),
        signature=data.get("signature"),
        autoscale_on=data.get("autoscale_on", "cpu"),
        target_in_flight=data.get("target_in_flight"),
        decision=Decision.from_json(data["decision"]) if data.get("decision") else None,
        cold_start=ColdStart(**data["cold_start"]) if data.get("cold_start") else None,
    )
