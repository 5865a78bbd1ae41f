"""Scraping replicas into the SQLite history, and the autoscaler's sync.

A mixin of `Supervisor` (kept apart so each file holds one concern).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from cortex_tui import replica_stats
from cortex_tui.config import stats_keys as K
from cortex_tui.local import hpa
from cortex_tui.local.gpus import GpuPool, GpuSource
from cortex_tui.local.records import ApiRecord
from cortex_tui.local.replica import Replica
from cortex_tui.local.runtime import Runtime
from cortex_tui.local.store import History
from cortex_tui.types import Decision

FRESH_STATS_TIMEOUT = 0.5  # s: an on-demand /stats read waits no longer (else: last scrape)


class Monitoring:
    lock: threading.RLock
    apis: dict[str, ApiRecord]
    runtime: dict[str, Runtime]
    history: History
    gpus: GpuPool
    gpu_source: GpuSource

    def save(self) -> Any: ...

    def _record_decision(self, record: ApiRecord, rt: Runtime, decision: Decision) -> Any: ...

    def _scrape(self) -> None:
        with self.lock:
            targets = [(name, r) for name, rt in self.runtime.items() for r in rt.replicas
                       if r.state == "ready"]
        results = [(name, r, r.stats(timeout=1.0), r.utilization_since_sample())
                   for name, r in targets]
        now = time.time()
        with self.lock:
            in_flight: dict[str, float] = {}
            for name, replica, stats, util in results:
                rt = self.runtime.get(name)
                if rt is None:
                    continue
                if stats is not None:
                    stats = dict(stats, replica=replica.name, version=replica.version)
                    rt.stats[replica.name] = stats
                    self.history.save_replica_stats(name, replica.name, stats)
                    in_flight[name] = in_flight.get(name, 0.0) + _in_flight(rt, replica.name,
                                                                            stats)
                    _cold_start(rt, replica.name, stats)
                if util is not None:
                    rt.utilization[replica.name] = util
            for name, record in self.apis.items():
                rt = self.runtime[name]
                rt.in_flight_series.append((now, in_flight.get(name, 0.0)))
                self._record_point(record, rt, now)
                self._forget_replaced_classes(record, rt)

    def _forget_replaced_classes(self, record: ApiRecord, rt: Runtime) -> None:
        """Once a replaced version's replicas are gone, their classes leave the totals and the
        history (their request counts stay): each version may track up to 1,000 classes, so
        keeping them all would grow `get` with every rollout. The class distribution is the
        current version's."""
        running = {r.name for r in rt.replicas}
        for replica, stats in list(rt.stats.items()):
            replaced = stats.get("version", record.version) != record.version
            if replaced and replica not in running and stats.get("class_distribution"):
                stats = dict(stats, class_distribution=None)
                rt.stats[replica] = stats
                self.history.save_replica_stats(record.name, replica, stats)

    def refresh_stats(self, name: str) -> None:
        """Read one API's replicas' /stats now, so `get API` and the TUI's detail show totals
        as of this moment, not of the last scrape (up to its period behind: a prediction just
        made would not show). History points are left to the periodic scrape."""
        with self.lock:
            rt = self.runtime.get(name)
            if rt is None:
                return
            targets = [r for r in rt.replicas if r.state == "ready"]
        results = [(r, r.stats(timeout=FRESH_STATS_TIMEOUT)) for r in targets]
        with self.lock:
            for replica, stats in results:
                if stats is not None and replica in rt.replicas:
                    rt.stats[replica.name] = dict(stats, replica=replica.name,
                                                  version=replica.version)

    def _record_point(self, record: ApiRecord, rt: Runtime, now: float) -> None:
        scrape = replica_stats.scrape(now, rt.stats)
        previous, rt.last_scrape = rt.last_scrape, scrape
        current = [r for r in rt.replicas if r.version == record.version]
        ready = sum(1 for r in current if r.state == "ready")
        utils = [rt.utilization[r.name] for r in current if r.name in rt.utilization]
        cpu = sum(utils) / len(utils) if utils else None
        point = replica_stats.point(previous, scrape, record.requested, ready, cpu)
        rt.last_point = dataclasses.replace(point, gpu_utilization=self._gpu_load(current))
        if point.request_rate > 0:
            rt.last_request_at = now  # scale to zero counts the idle time from here
        self.history.add_point(record.name, rt.last_point)

    def _gpu_load(self, replicas: list[Replica]) -> float | None:
        """Average utilisation of the devices these replicas hold (None: they hold none)."""
        usages = [self.gpu_source.usage(i) for r in replicas for i in r.gpus]
        known = [u.utilization for u in usages if u is not None]
        return sum(known) / len(known) if known else None

    def _replica_ceiling(self, record: ApiRecord) -> int:
        """max_replicas, lowered to the replicas this machine's GPUs can ever hold: planning
        more only leaves replicas pending (min_replicas is still asked for, and shows why)."""
        c = record.compute
        cap = self.gpus.replica_cap(c.gpu)
        if cap is None:
            return c.max_replicas
        return max(c.min_replicas, min(c.max_replicas, cap))

    def _autoscale(self, record: ApiRecord, rt: Runtime, now: float) -> None:
        policy = dataclasses.replace(rt.autoscaler.policy,
                                     max_replicas=self._replica_ceiling(record))
        rt.autoscaler.update(policy)
        if policy.signal == "in_flight":
            value = rt.in_flight_average(now, record.compute.window)
        else:
            value = self._cpu_signal(record, rt)
        decision = rt.autoscaler.decide(now, record.requested, value,
                                        idle_for=now - rt.last_request_at)
        self._record_decision(record, rt, decision)

    def _cpu_signal(self, record: ApiRecord, rt: Runtime) -> float | None:
        """The replicas' cpu use summed, in percent of one request (the HPA's
        current * utilisation), counting replicas without a sample as the HPA does."""
        target = record.compute.target_cpu_utilization
        current = rt.current(record.version)
        utils = [rt.utilization[r.name] for r in current
                 if r.state == "ready" and r.name in rt.utilization]
        utilization = hpa.utilization_with_missing(utils, len(current) - len(utils), target)
        return None if utilization is None else utilization * record.requested


def _in_flight(rt: Runtime, replica: str, stats: dict[str, Any]) -> float:
    """The replica's requests in flight, averaged since the previous scrape (since it started
    on the first): the difference of its running sum and count of samples."""
    sampled = stats.get(K.IN_FLIGHT_SAMPLED) or {}
    total, count = int(sampled.get(K.SUM, 0)), int(sampled.get(K.COUNT, 0))
    before = rt.in_flight_seen.get(replica, (0, 0))
    rt.in_flight_seen[replica] = (total, count)
    if count <= before[1]:
        return float(stats.get(K.IN_FLIGHT) or 0)
    return (total - before[0]) / (count - before[1])


def _cold_start(rt: Runtime, replica: str, stats: dict[str, Any]) -> None:
    start = rt.cold_starts.get(replica)
    if start is None or start.first_answer is not None:
        return
    done = dataclasses.replace(start, init_done=stats.get(K.INIT_DONE_AT),
                               first_answer=stats.get(K.FIRST_ANSWER_AT))
    rt.cold_starts[replica] = done
    if rt.cold_start is not None and rt.cold_start.replica == replica:
        rt.cold_start = done
