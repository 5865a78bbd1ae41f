"""What the operator knows about one API beyond its desired state, and the status it gives."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cortex_tui.autoscale import Autoscaler
from cortex_tui.local.gpus import GpuUsage
from cortex_tui.local.records import ApiRecord
from cortex_tui.local.replica import HOST, UNKNOWN_EXIT, Replica
from cortex_tui.replica_stats import Scrape, merge_network, merge_tracker, signature
from cortex_tui.types import (
    ApiState,
    ColdStart,
    Decision,
    MetricsPoint,
    ReplicaEndpoint,
    Status,
)


@dataclass
class Runtime:
    """Not persisted: rebuilt (and replicas re-adopted) when the operator starts."""

    autoscaler: Autoscaler
    replicas: list[Replica] = field(default_factory=list)
    failures: int = 0  # consecutive failures of the current version
    last_failure_at: float = 0.0  # unix time of the last one
    next_start_at: float = 0.0
    failure_message: str = ""
    failure_oom: bool = False
    pending: int = 0
    pending_reason: str = ""
    pending_logged: str = ""
    installing: bool = False  # replicas wait for the requirements' environment
    install_error: str = ""  # pip's failure installing requirements.txt
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # replica → last /stats
    utilization: dict[str, float] = field(default_factory=dict)  # replica → last cpu %
    last_scrape: Scrape | None = None  # every replica's counters at the last scrape
    last_point: MetricsPoint | None = None  # what happened between the last two scrapes
    dead: deque[Replica] = field(default_factory=lambda: deque(maxlen=3))
    last_sync: float = 0.0
    endpoint_note: str = ""  # the remembered port was taken at start: where the API moved
    # autoscale_on: in_flight. Per replica, the last (sum, count) of its in-flight samples;
    # per scrape, (time, the API's requests in flight averaged since the previous scrape).
    in_flight_seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    in_flight_series: deque[tuple[float, float]] = field(default_factory=deque)
    last_request_at: float = 0.0  # unix time the request count last grew (scale to zero)
    decision: Decision | None = None  # the last sync's
    cold_starts: dict[str, ColdStart] = field(default_factory=dict)  # replica -> its start
    cold_start: ColdStart | None = None  # the API's latest replica start

    def in_flight_average(self, now: float, window: float) -> float | None:
        """The API's requests in flight, averaged over the last `window` seconds."""
        while self.in_flight_series and self.in_flight_series[0][0] <= now - window:
            self.in_flight_series.popleft()
        if not self.in_flight_series:
            return None
        return sum(v for _, v in self.in_flight_series) / len(self.in_flight_series)

    def current(self, version: int) -> list[Replica]:
        """Replicas of `version` that are not being stopped."""
        return [r for r in self.replicas if r.version == version and r.state != "stopping"]

    def outdated(self, version: int) -> list[Replica]:
        """Replicas of older versions that still serve (not yet told to drain)."""
        return [r for r in self.replicas if r.version != version and r.state != "stopping"]


def api_state(record: ApiRecord, rt: Runtime, failures_before_error: int,
              gpu_usage: Callable[[int], GpuUsage | None] | None = None) -> ApiState:
    c = record.compute
    current = rt.current(record.version)
    available = sum(1 for r in current if r.state == "ready")
    status, message = api_status(record, rt, available, failures_before_error)
    stats = list(rt.stats.values())
    return ApiState(
        name=record.name, status=status, message=message, up_to_date=len(current),
        available=available, requested=record.requested, failed=rt.failures,
        min_replicas=c.min_replicas, max_replicas=c.max_replicas,
        init_replicas=c.init_replicas, target_cpu_utilization=c.target_cpu_utilization,
        endpoint=f"http://{HOST}:{record.port}/{record.name}", last_update=record.last_update,
        network=merge_network(stats), tracker=merge_tracker(stats, record.tracker_type),
        request_rate=rt.last_point.request_rate if rt.last_point else None,
        replicas=tuple(replica_endpoint(r, gpu_usage) for r in rt.replicas),
        signature=signature(stats),
        autoscale_on=c.autoscale_on, target_in_flight=c.in_flight_target,
        decision=rt.decision, cold_start=rt.cold_start,
    )


def replica_endpoint(
    r: Replica, gpu_usage: Callable[[int], GpuUsage | None] | None
) -> ReplicaEndpoint:
    usages = [u for u in map(gpu_usage, r.gpus) if u is not None] if gpu_usage else []
    return ReplicaEndpoint(
        r.name, r.version, r.state, admin_url(r), gpus=r.gpus,
        gpu_utilization=sum(u.utilization for u in usages) / len(usages) if usages else None,
        gpu_memory_used=sum(u.memory_used for u in usages) if usages else None,
    )


def admin_url(replica: Replica) -> str:
    return f"http://{HOST}:{replica.admin_port}"


def scrape_targets(apis: dict[str, ApiRecord], runtime: dict[str, Runtime]) -> list[dict[str, Any]]:
    """Prometheus `file_sd` groups: every running replica's admin port, labelled."""
    return [
        {"targets": [f"{HOST}:{r.admin_port}"],
         "labels": {"api": name, "replica": r.name, "version": str(r.version)}}
        for name in sorted(apis) for r in runtime[name].replicas
    ]


def api_status(
    record: ApiRecord, rt: Runtime, available: int, failures_before_error: int
) -> tuple[Status, str]:
    low = record.compute.min_replicas
    if rt.install_error and available < low:
        return Status.ERROR, rt.install_error
    if rt.failures >= failures_before_error and available < low:
        return (Status.OUT_OF_MEMORY if rt.failure_oom else Status.ERROR), rt.failure_message
    if rt.pending > 0 and available < record.requested:
        return Status.COMPUTE_UNAVAILABLE, rt.pending_reason
    if available >= low and not rt.outdated(record.version) and available >= min(
            record.requested, 1):  # scaled to zero is live; waking from it is updating
        return Status.LIVE, ""
    return (Status.INSTALLING if rt.installing else Status.UPDATING), ""


def failure_message(replica: Replica, code: int) -> str:
    text = replica.termination_message()
    if text:
        return text
    lines = replica.last_lines(10)
    if code == UNKNOWN_EXIT:
        how = "replica exited"
    elif code < 0:
        how = f"replica killed by signal {-code}"
    else:
        how = f"replica exited with code {code}"
    return how + (": " + " | ".join(lines) if lines else "")
