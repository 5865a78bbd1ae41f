"""The operator's brain: desired state, replica supervision, rollouts, autoscaling, status.

One `Supervisor` per state directory, driven by `tick()` from a single loop thread; HTTP
handler threads call the public methods. Everything shared is guarded by `self.lock`; slow I/O
(health checks, `/stats` scrapes) happens outside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from cortex_tui.autoscale import Autoscaler, Policy, woke
from cortex_tui.config.files import ProjectFilesError
from cortex_tui.config.model import ApiSpec
from cortex_tui.config.scaling import ScaleError, apply_scale
from cortex_tui.errors import ApiNotFound, BackendError
from cortex_tui.local import logfiles, snapshot
from cortex_tui.local.capacity import Resources, describe_shortfall, node_capacity
from cortex_tui.local.environments import REQUIREMENTS, Environments, requirements_key
from cortex_tui.local.gpus import GpuPool, discover, load_source
from cortex_tui.local.listeners import Listeners
from cortex_tui.local.monitoring import Monitoring
from cortex_tui.local.oplog import Faults, OperatorLog, describe
from cortex_tui.local.options import OperatorOptions
from cortex_tui.local.paths import StateDir, write_private
from cortex_tui.local.records import (
    ApiRecord,
    describe_changes,
    fingerprint,
    runtime_spec,
)
from cortex_tui.local.replica import Replica
from cortex_tui.local.runtime import Runtime, api_state, failure_message, scrape_targets
from cortex_tui.local.store import History
from cortex_tui.replica_stats import merge_batching, merge_network, merge_tracker
from cortex_tui.types import ApiState, ColdStart, Decision, DeployChange, Metrics
from predictor.memory import OOM_EXIT_CODE

STATE_WRITES = "state writes"  # state.json
LOG_FILES = "replica log files"


class Supervisor(Monitoring):
    def __init__(self, state_dir: StateDir, options: OperatorOptions,
                 log: OperatorLog | None = None) -> None:
        self.dir = state_dir
        self.options = options
        self.log = log or OperatorLog()
        self.faults = Faults(self.log.say)
        self.lock = threading.RLock()
        history_existed = state_dir.history.exists()
        self.history = History(state_dir.history, self.faults)
        if state_dir.state.exists() and not history_existed:
            self.log.say(f"warning: {state_dir.history} was missing; a new one was created "
                         f"(earlier events and metrics are lost)")
        self.apis: dict[str, ApiRecord] = {}
        self.runtime: dict[str, Runtime] = {}
        self.gpu_source = load_source()
        self.gpus = GpuPool(discover(self.gpu_source))
        self.capacity = dataclasses.replace(node_capacity(), gpu=self.gpus.total)
        self._last_scrape = 0.0
        self._orphans: list[Replica] = []  # replicas of deleted APIs, still draining
        self._deploying = threading.Lock()  # one deploy at a time (snapshots, pruning)
        self._saved = ""
        self._saved_targets = ""
        self.listeners = Listeners()  # one endpoint socket per API, for its whole life
        self.environments = Environments(state_dir.environments)

    # ---- persistence -----------------------------------------------------------------
    def load(self) -> None:
        """Restore the desired state; re-adopt replicas a previous operator left running."""
        if not self.dir.state.exists():
            return
        data = json.loads(self.dir.state.read_text(encoding="utf-8"))
        for raw in data.get("apis", []):
            record = ApiRecord.from_json(raw)
            self.apis[record.name] = record
            rt = self._new_runtime(record)  # its autoscaler starts now: no scaling storm
            rt.decision = self.history.last_decision(record.name)
            rt.stats = {s.get("replica", str(i)): s
                        for i, s in enumerate(self.history.replica_stats(record.name))}
        for raw in data.get("replicas", []):
            replica = Replica.adopt(raw)
            if replica is None:
                continue
            if replica.api in self.runtime:
                self.runtime[replica.api].replicas.append(replica)
            else:
                replica.stop()
        for name, record in self.apis.items():
            if not self.runtime[name].replicas:
                self._claim_endpoint(record, self.runtime[name])

    def _claim_endpoint(self, record: ApiRecord, rt: Runtime) -> None:
        """After `local stop` or a reboot nothing holds the API's remembered port: take it
        now, before `get` shows it, or move the API to a new port when another program (maybe
        another user's) has it, and say so."""
        try:
            self.listeners.get(record.name, record.port, rt.replicas)
        except BackendError as exc:
            self.listeners.recovered.pop(record.name, None)
            old, record.port = record.port, self.listeners.create(record.name)
            rt.endpoint_note = (f"port {old} was taken by another program ({exc}); the "
                                f"endpoint moved to port {record.port}")
            self.history.event(record.name, "endpoint", rt.endpoint_note)
            self.log.say(f'api "{record.name}": {rt.endpoint_note}')

    def _state_text(self) -> str:
        data = {
            "apis": [r.to_json() for r in self.apis.values()],
            "replicas": [rep.record() for rt in self.runtime.values() for rep in rt.replicas],
        }
        return json.dumps(data, indent=1)

    def save(self) -> None:
        """Write what changed; a failure (full or read-only disk) is counted and shown in
        `get` until a write works again, never raised into the loop."""
        text = self._state_text()
        targets = json.dumps(scrape_targets(self.apis, self.runtime), indent=1)
        try:
            if text != self._saved:  # the loop saves every tick; write only what changed
                write_private(self.dir.state, text)
                self._saved = text
            if targets != self._saved_targets:
                write_private(self.dir.scrape_targets, targets)  # atomic: Prometheus watches it
                self._saved_targets = targets
        except OSError as exc:
            self.faults.failed(STATE_WRITES, exc)
            return
        self.faults.ok(STATE_WRITES)

    def _ensure_writable(self) -> None:
        """Before a change: refuse it when it could not be kept (a change applied in memory
        only would be undone by the next operator restart)."""
        try:
            write_private(self.dir.state, self._state_text())
        except OSError as exc:
            self.faults.failed(STATE_WRITES, exc)
            raise BackendError(f"{self.state_problem() or describe(exc)}; nothing was "
                               f"changed") from None
        self.faults.ok(STATE_WRITES)

    def state_problem(self) -> str:
        """Why the state directory cannot be written right now, or ""."""
        reason = self.faults.reason(STATE_WRITES) or next(
            (f"replica {r.name} runs without a log file: {r.log_error}"
             for rt in self.runtime.values() for r in rt.replicas if r.log_error), "")
        return f"state directory not writable: {self.dir.root} ({reason})" if reason else ""

    def _new_runtime(self, record: ApiRecord) -> Runtime:
        now = time.time()
        rt = Runtime(Autoscaler(self._policy(record), now, record.requested),
                     last_request_at=now)
        self.runtime[record.name] = rt
        return rt

    def _policy(self, record: ApiRecord) -> Policy:
        policy = Policy.of(record.compute)
        if policy.signal == "cpu":  # the operator's setting (tests shorten it)
            policy = replace(policy, down_stabilization=self.options.scale_down_window)
        return policy

    # ---- requests ----------------------------------------------------------------------
    def deploy(self, payload: dict[str, Any]) -> list[DeployChange]:
        root = Path(payload["root"])
        if not root.is_dir():
            raise BackendError(f"{root}: project folder not found")
        with self._deploying:
            return self._deploy(root, payload)

    def _deploy(self, root: Path, payload: dict[str, Any]) -> list[DeployChange]:
        with self.lock:
            self._ensure_writable()
        self.dir.snapshots.mkdir(parents=True, exist_ok=True)
        try:
            _, snap = snapshot.take_snapshot(root, self.dir.snapshots)
        except ProjectFilesError as exc:
            raise BackendError(str(exc)) from None
        if key := requirements_key(snap):
            self.environments.forget_failure(key)  # deploying again tries pip again
        config = Path(payload.get("config_file") or "cortex.yaml").name
        code = snapshot.content_hash(snap, exclude=frozenset({config}))
        deployment, force = payload["deployment"], bool(payload.get("force"))
        specs = [dict(s) for s in payload["apis"]]
        for spec in specs:
            spec.pop("line", None)
        changes: list[DeployChange] = []
        with self.lock:
            listed = {s["name"] for s in specs}
            for spec in specs:
                changes.append(self._deploy_one(spec, deployment, code, snap, force, config))
            for name in sorted(n for n, r in self.apis.items()
                               if r.deployment == deployment and n not in listed):
                self._delete_one(name)
                changes.append(DeployChange(name, "deleted"))
            self.save()
            self._prune_snapshots()
        return changes

    def _deploy_one(
        self, spec: dict[str, Any], deployment: str, code: str, snap: Path, force: bool,
        config: str,
    ) -> DeployChange:
        name = spec["name"]
        fp, rk = fingerprint(spec, code), fingerprint(runtime_spec(spec), code)
        old = self.apis.get(name)
        now = time.time()
        c = ApiSpec.from_dict(spec).compute
        if old is None:
            self.apis[name] = ApiRecord(name, deployment, 1, fp, str(snap),
                                        self.listeners.create(name), spec,
                                        c.init_replicas, now, code, rk, config)
            self._new_runtime(self.apis[name])
            self.history.event(name, "deployed", f"created with {c.init_replicas} replica(s)")
            return DeployChange(name, "created")
        if old.fingerprint == fp and not force:
            return DeployChange(name, "unchanged")
        message = describe_changes(old.spec, spec, code != old.code)
        requested = min(max(old.requested, c.min_replicas), c.max_replicas)
        if old.runtime == rk and not force:  # only autoscaling bounds: no rollout
            old.spec, old.fingerprint, old.deployment = spec, fp, deployment
            old.requested, old.last_update = requested, now
            self.runtime[name].autoscaler.update(self._policy(old))
            self.history.event(name, "updated", message)
            return DeployChange(name, "updated", message)
        self.apis[name] = ApiRecord(name, deployment, old.version + 1, fp, str(snap), old.port,
                                    spec, requested, now, code, rk, config)
        rt = self.runtime[name]
        rt.autoscaler.update(self._policy(self.apis[name]))
        rt.failures, rt.next_start_at, rt.failure_message = 0, 0.0, ""
        self.history.event(name, "updated", f"version {old.version + 1}: {message}")
        return DeployChange(name, "updated", message)

    def _ports_in_use(self) -> set[int]:
        ports = {r.port for r in self.apis.values()}
        ports |= {rep.admin_port for rt in self.runtime.values() for rep in rt.replicas}
        return ports | {rep.admin_port for rep in self._orphans}

    def _prune_snapshots(self) -> None:
        # Old-version replicas still run from their snapshot until they drain.
        keep = {Path(r.snapshot) for r in self.apis.values()}
        keep |= {rep.project for rt in self.runtime.values() for rep in rt.replicas}
        keep |= {rep.project for rep in self._orphans}
        snapshot.prune(self.dir.snapshots, keep)
        self.environments.prune({k for k in map(requirements_key, keep) if k is not None})

    def delete(self, name: str | None) -> list[str]:
        with self.lock:
            if name is not None and name not in self.apis:
                raise ApiNotFound(name)
            self._ensure_writable()
            names = [name] if name is not None else sorted(self.apis)
            for api in names:
                self._delete_one(api)
            self.save()
        return names

    def _delete_one(self, name: str) -> None:
        self.apis.pop(name, None)
        rt = self.runtime.get(name)
        if rt is not None:
            for replica in rt.replicas:
                replica.stop()
            self._orphans.extend(rt.replicas)
            del self.runtime[name]
        self.listeners.close(name)  # the draining replicas keep it until they exit
        self.history.forget_api(name)
        self.history.event(name, "deleted", "deleted")
        shutil.rmtree(self.dir.log_dir(name), ignore_errors=True)  # open files live on

    def scale(self, name: str, request: dict[str, Any]) -> ApiState:
        with self.lock:
            record = self._record(name)
            self._ensure_writable()
            try:
                new = apply_scale(
                    record.compute, request.get("min_replicas"), request.get("max_replicas"),
                    request.get("init_replicas"), request.get("target_cpu_utilization"),
                )
            except ScaleError as exc:
                raise BackendError(f'api "{name}": {exc}') from None
            record.spec["compute"].update(  # the stored form: it is what state.json keeps
                min_replicas=new.min_replicas, max_replicas=new.max_replicas,
                init_replicas=new.init_replicas, target_cpu_utilization=new.target_cpu_utilization,
            )
            before = record.requested
            record.requested = min(max(record.requested, new.min_replicas), new.max_replicas)
            self.runtime[name].autoscaler.update(self._policy(record))
            record.last_update = time.time()
            self.history.event(
                name, "scaled",
                f"min {new.min_replicas}, max {new.max_replicas}, "
                f"target cpu {new.target_cpu_utilization}%: {before} -> {record.requested}",
            )
            self.save()
            return self._state(record)

    def decisions(self, name: str, since: float | None) -> list[Decision]:
        with self.lock:
            self._record(name)
        return self.history.decisions(name, since)

    def get(self, name: str | None) -> list[ApiState]:
        if name is not None:
            self.refresh_stats(name)
        with self.lock:
            names = [self._record(name).name] if name is not None else sorted(self.apis)
            return [self._state(self.apis[n]) for n in names]

    def _state(self, record: ApiRecord) -> ApiState:
        state = api_state(record, self.runtime[record.name], self.options.failures_before_error,
                          self.gpu_source.usage)
        problem = "; ".join(p for p in (self.runtime[record.name].endpoint_note,
                                         self.state_problem()) if p)
        if not problem:
            return state
        return dataclasses.replace(
            state, message=f"{state.message}; {problem}" if state.message else problem)

    def replicas(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            self._record(name)
            rt = self.runtime[name]
            return [{"name": r.name, "log": str(r.log_path), "state": r.state,
                     "alive": r in rt.replicas, "gpus": list(r.gpus)}
                    for r in [*rt.dead, *rt.replicas]]

    def gpu_info(self) -> list[dict[str, Any]]:
        """Every device replicas may use, who holds it, and its load as NVML sees it now."""
        with self.lock:
            holders = {i: r.name for rt in self.runtime.values() for r in rt.replicas
                       for i in r.gpus}
        devices = []
        for gpu in self.gpus.devices:
            usage = self.gpu_source.usage(gpu.index)
            devices.append({
                "index": gpu.index, "name": gpu.name, "memory": gpu.memory,
                "replica": holders.get(gpu.index),
                "utilization": usage.utilization if usage else None,
                "memory_used": usage.memory_used if usage else None,
            })
        return devices

    def metrics(self, name: str, since: float | None) -> Metrics:
        # Totals as fresh as the last get(name): the TUI's detail calls it right before.
        with self.lock:
            record = self._record(name)
            stats = list(self.runtime[name].stats.values())
        return Metrics(name, tuple(self.history.points(name, since)), merge_network(stats),
                       merge_tracker(stats, record.tracker_type), merge_batching(stats))

    def _record(self, name: str) -> ApiRecord:
        record = self.apis.get(name)
        if record is None:
            raise ApiNotFound(name)
        return record

    # ---- status ------------------------------------------------------------------------
    def tick(self) -> None:
        with self.lock:
            names = list(self.apis)
            for name in names:
                self._reap(self.apis[name], self.runtime[name])
            self._reap_orphans()
            starting = [r for rt in self.runtime.values() for r in rt.replicas
                        if r.state == "starting"]
        ready = {r.name for r in starting if r.healthy(timeout=0.5)}
        with self.lock:
            for name in list(self.apis):
                record, rt = self.apis[name], self.runtime[name]
                self._mark_ready(record, rt, ready)
                self._wake(record, rt)
                self._reconcile(record, rt)
            self.save()
        now = time.time()
        if now - self._last_scrape >= self.options.scrape_period:
            self._last_scrape = now
            self._scrape()
            self._rotate_logs()
            self._check_history()
        with self.lock:
            for name in list(self.apis):
                rt = self.runtime[name]
                if now - rt.last_sync >= self.options.sync_period:
                    rt.last_sync = now
                    self._autoscale(self.apis[name], rt, now)

    def _wake(self, record: ApiRecord, rt: Runtime) -> None:
        """Scaled to zero, the operator keeps the endpoint listening: a connection waiting in
        its queue asks for a replica, which accepts it once `init` is done."""
        if record.requested > 0 or rt.current(record.version):
            return
        if not self.listeners.pending(record.name, record.port):
            return
        now = time.time()
        rt.last_request_at = now
        to = max(1, record.compute.min_replicas)
        self._record_decision(record, rt, woke(now, rt.autoscaler.policy, to))

    def _record_decision(self, record: ApiRecord, rt: Runtime, decision: Decision) -> None:
        rt.decision = decision
        self.history.add_decision(record.name, decision)
        if decision.moved:
            self.history.event(record.name, "scaled", decision.summary())
            record.requested = decision.final
            self.save()

    def _enforce_memory(self, rt: Runtime) -> None:
        """`mem` is a limit too, as on Kubernetes: a replica above it is killed (OOMKilled)."""
        for replica in rt.replicas:
            if replica.mem <= 0 or replica.state == "stopping" or replica.out_of_memory:
                continue
            rss = replica.rss()
            if rss is not None and rss > replica.mem:
                replica.out_of_memory = (
                    f"replica {replica.name} used {rss >> 20}Mi, more than its mem limit "
                    f"of {replica.mem >> 20}Mi; it was killed (raise compute.mem)"
                )
                replica.signal(signal.SIGKILL)

    def _reap(self, record: ApiRecord, rt: Runtime) -> None:
        self._enforce_memory(rt)
        gone = False
        for replica in list(rt.replicas):
            code = replica.exit_code()
            if code is None:
                self._kill_if_overdue(replica)
                continue
            gone = True
            if code == OOM_EXIT_CODE and replica.mem > 0 and not replica.out_of_memory:
                replica.out_of_memory = (
                    f"replica {replica.name} needed more than its mem limit of "
                    f"{replica.mem >> 20}Mi (an allocation failed; on Kubernetes it is "
                    f"OOM-killed); it stopped (raise compute.mem)"
                )
            rt.replicas.remove(replica)
            rt.utilization.pop(replica.name, None)
            rt.in_flight_seen.pop(replica.name, None)
            rt.cold_starts.pop(replica.name, None)
            if replica.killed_by_us:
                continue
            rt.dead.append(replica)
            if replica.version != record.version:
                continue
            if code == 0 and replica.ready_at is not None:
                # it served, then stopped cleanly (a SIGTERM not from us): replaced, not a
                # failure; one that exits 0 before it is ever ready still counts
                self.history.event(record.name, "exited",
                                   f"replica {replica.name} stopped (exit 0); replacing it")
                continue
            rt.failures += 1
            rt.last_failure_at = time.time()
            delay = min(self.options.restart_backoff * 2 ** (rt.failures - 1),
                        self.options.restart_backoff_max)
            rt.next_start_at = time.time() + delay
            rt.failure_oom = bool(replica.out_of_memory)
            rt.failure_message = replica.out_of_memory or failure_message(replica, code)
            self.history.event(record.name, "failed",
                               f"replica {replica.name} exited ({code}); restarting in {delay:g}s")
        if gone:
            self._prune_logs(record.name, rt)

    def _rotate_logs(self) -> None:
        with self.lock:
            paths = [r.log_path for rt in self.runtime.values() for r in rt.replicas]
        for path in [*paths, self.dir.operator_log]:
            logfiles.rotate(path, self.options.log_max_bytes)

    def _check_history(self) -> None:
        if self.history.recreate_if_deleted():
            self.log.say(f"warning: {self.dir.history} was deleted; a new one was created "
                         f"(earlier events and metrics are lost)")

    def _prune_logs(self, api: str, rt: Runtime) -> None:
        """Keep the log files `logs` can show (running replicas and the last failed ones):
        a crash loop or many rollouts would otherwise leave a file per replica forever."""
        keep = {p.name for r in [*rt.dead, *rt.replicas]
                for p in (r.log_path, logfiles.rotated(r.log_path), r.termination_path)}
        with contextlib.suppress(OSError):
            for path in self.dir.log_dir(api).iterdir():
                if path.name not in keep:
                    path.unlink(missing_ok=True)

    def _reap_orphans(self) -> None:
        for replica in list(self._orphans):
            if replica.exit_code() is not None:
                self._orphans.remove(replica)
            else:
                self._kill_if_overdue(replica)

    def _kill_if_overdue(self, replica: Replica) -> None:
        sent = replica.stop_sent_at
        if sent is not None and time.time() - sent > self.options.drain_timeout:
            replica.signal(signal.SIGKILL)

    def _mark_ready(self, record: ApiRecord, rt: Runtime, ready: set[str]) -> None:
        for replica in rt.replicas:
            if replica.state == "starting" and replica.name in ready:
                replica.state, replica.ready_at = "ready", time.time()
                replica.utilization_since_sample()
                start = rt.cold_starts.get(replica.name)
                if start is not None:
                    rt.cold_starts[replica.name] = rt.cold_start = replace(
                        start, ready=replica.ready_at)
                if not replica.ready_announced:  # not again for a re-adopted replica
                    self.history.event(record.name, "ready", f"replica {replica.name} ready")
                    replica.ready_announced = True

    def _forgive(self, record: ApiRecord, rt: Runtime) -> None:
        """Failures are forgotten once a replica of the version started since the last
        failure has stayed ready a while (as Kubernetes resets its crash-loop back-off): a
        replica crashing right after it became ready still ends in `error`, and a replica
        that was healthy before the failures does not excuse its failing siblings."""
        if not rt.failures:
            return
        stable = time.time() - self.options.stable_after
        if any(r.ready_at and r.ready_at <= stable and r.started_at > rt.last_failure_at
               for r in rt.current(record.version)):
            rt.failures, rt.failure_message, rt.next_start_at = 0, "", 0.0

    def _reconcile(self, record: ApiRecord, rt: Runtime) -> None:
        self._forgive(record, rt)
        current = rt.current(record.version)
        want = record.requested
        rt.pending, rt.pending_reason = 0, ""
        python = None
        if len(current) < want and time.time() >= rt.next_start_at:
            python = self._interpreter(record, rt)
        if python is not None:
            for _ in range(want - len(current)):
                if not self._start_replica(record, rt, python):
                    rt.pending = want - len(rt.current(record.version))
                    break
        elif len(current) > want:
            # like a ReplicaSet: not-ready replicas first, then the youngest
            extras = sorted(current, key=lambda r: (r.state == "ready", -r.started_at))
            for replica in extras[: len(current) - want]:
                replica.stop()
        ready = sum(1 for r in current if r.state == "ready")
        if ready >= want:  # the new version is fully ready: the old one drains
            for replica in rt.outdated(record.version):
                replica.stop()

    def _placed(self, exclude_api: str, exclude_version: int) -> Resources:
        """cpu and memory held (GPUs are whole devices: counted by `_gpus_taken`)."""
        total = Resources(0, 0, 0)
        for rt in self.runtime.values():
            for r in rt.replicas:
                if r.api == exclude_api and r.version != exclude_version:
                    continue  # old versions of the API being rolled out give way
                total = total + Resources(r.cpu_millis, r.mem, 0)
        for r in self._orphans:
            total = total + Resources(r.cpu_millis, r.mem, 0)
        return total

    def _gpus_taken(self) -> set[int]:
        """Devices held by any running replica, old versions and orphans included: a device is
        exclusive until its process exits."""
        everyone = [r for rt in self.runtime.values() for r in rt.replicas] + self._orphans
        return {i for r in everyone for i in r.gpus}

    def _give_way_for_gpus(self, record: ApiRecord, rt: Runtime) -> bool:
        """A new version waiting for devices its own old replicas hold: drain one old replica
        (as a Recreate rollout would) instead of waiting for ever. True while one drains."""
        draining = any(r.state == "stopping" and r.gpus for r in rt.replicas)
        holders = [r for r in rt.outdated(record.version) if r.gpus]
        if holders and not draining:
            min(holders, key=lambda r: r.started_at).stop()
            draining = True
        return draining

    def _interpreter(self, record: ApiRecord, rt: Runtime) -> str | None:
        """The Python the API's new replicas run: the operator's, or the environment of the
        project's requirements.txt once built (None until then, or when pip failed)."""
        key = requirements_key(Path(record.snapshot))
        if key is None:
            rt.installing, rt.install_error = False, ""
            return sys.executable
        python = self.environments.python(key)
        if python is not None:
            if rt.installing:
                self.history.event(record.name, "updated", f"{REQUIREMENTS} installed")
            rt.installing, rt.install_error = False, ""
            return str(python)
        error = self.environments.failure(key) or ""
        if error and error != rt.install_error:
            self.history.event(record.name, "failed", error)
        rt.install_error = error
        if not error and not self.environments.building(key):
            self.history.event(record.name, "updated", f"installing {REQUIREMENTS}")
            self.environments.start(key, Path(record.snapshot) / REQUIREMENTS)
        rt.installing = not error
        return None

    def _start_replica(self, record: ApiRecord, rt: Runtime, python: str) -> bool:
        need = record.resources
        taken = self._gpus_taken()
        free = dataclasses.replace(self.capacity - self._placed(record.name, record.version),
                                   gpu=len(self.gpus.free(taken)))
        devices = self.gpus.pick(taken, need.gpu)
        if not need.fits_in(free) or devices is None:
            reason = f"replica pending: {describe_shortfall(need, free, self.capacity)}"
            if need.gpu > free.gpu and self._give_way_for_gpus(record, rt):
                reason = (f"replica pending: gpu {need.gpu} requested, waiting for the previous "
                          "version's replicas to release theirs")
            if rt.pending_logged != reason:  # one event per new reason, not one per tick
                self.history.event(record.name, "pending", reason)
                rt.pending_logged = reason
            rt.pending_reason = reason
            return False
        try:
            listener = self.listeners.get(record.name, record.port, rt.replicas)
        except BackendError as exc:  # after a restart, the port was taken meanwhile
            rt.failures = max(rt.failures + 1, self.options.failures_before_error)
            rt.next_start_at = time.time() + self.options.restart_backoff_max
            rt.failure_message = rt.pending_reason = str(exc)
            return False
        if how := self.listeners.recovered.pop(record.name, None):
            self.history.event(record.name, "endpoint", f"port {record.port}: socket {how}")
        replica = Replica.spawn(
            api=record.name, version=record.version, project=Path(record.snapshot),
            config=record.config, listener=listener, log_dir=self.dir.log_dir(record.name),
            cpu_millis=need.cpu_millis, mem=need.mem, avoid_ports=self._ports_in_use(),
            gpus=devices, python=python, threads=record.compute.threads_per_replica,
        )
        if replica.log_error:  # it serves all the same; `get` says why its log is missing
            self.faults.failed(LOG_FILES, replica.log_error)
        else:
            self.faults.ok(LOG_FILES)
        rt.replicas.append(replica)
        rt.cold_starts[replica.name] = rt.cold_start = ColdStart(replica.name, replica.started_at)
        rt.pending_logged = ""
        if rt.failures:
            self.history.event(record.name, "restarted", f"replica {replica.name} started")
        return True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every replica (SIGTERM, then SIGKILL after `timeout`); keep the desired state."""
        with self.lock:
            everyone = [r for rt in self.runtime.values() for r in rt.replicas] + self._orphans
            for replica in everyone:
                replica.stop()
            deadline = time.time() + timeout
            while time.time() < deadline and any(r.exit_code() is None for r in everyone):
                time.sleep(0.05)
            for replica in everyone:
                replica.signal(signal.SIGKILL)
            for replica in everyone:
                if replica.popen is not None:
                    replica.popen.wait(timeout=5)
            for rt in self.runtime.values():
                rt.replicas.clear()
            self._orphans.clear()
            self.listeners.close_all()
            self.save()
            self.history.close()

