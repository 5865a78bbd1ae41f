"""The scheduler and the kubelet of the fake: pods get a node (or stay Pending), start, become
Ready, crash-loop or get OOMKilled as the test asks, and terminate after a short grace."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.helpers.fakekube import quantity
from tests.helpers.fakekube.resources import by_kind
from tests.helpers.fakekube.store import now_iso

if TYPE_CHECKING:
    from tests.helpers.fakekube.fake import FakeKube

POD = by_kind("Pod")
NODE = by_kind("Node")
TRACKED = ("cpu", "memory", "nvidia.com/gpu")


@dataclass(frozen=True)
class Behaviour:
    """What the containers of matching pods do: `ready` (default), `unready` (run, never
    ready), `crash` (exit 1 with `message` as termination message), `oom` (OOMKilled)."""

    mode: str = "ready"
    message: str = ""


def pod_requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    total = dict.fromkeys(TRACKED, Decimal(0))
    for container in pod["spec"].get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in TRACKED:
            if name in requests:
                total[name] += quantity.parse(requests[name])[0]
    return total


def _condition(type_: str, status: bool, reason: str | None = None, message: str | None = None
               ) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": type_, "status": "True" if status else "False",
                                 "lastProbeTime": None, "lastTransitionTime": now_iso()}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _set_condition(status: dict[str, Any], new: dict[str, Any]) -> None:
    conditions = status.setdefault("conditions", [])
    for i, old in enumerate(conditions):
        if old["type"] == new["type"]:
            if (old["status"], old.get("reason"), old.get("message")) != (
                new["status"], new.get("reason"), new.get("message")
            ):
                conditions[i] = new
            return
    conditions.append(new)


class Kubelet:
    def __init__(self, fake: FakeKube) -> None:
        self.fake = fake
        self._ticks: dict[str, int] = {}  # pod uid -> ticks since it started / was deleted
        self._ip = 0

    # ------------------------------------------------------------------ scheduling
    def _free(self, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]
              ) -> dict[str, dict[str, Decimal]]:
        free = {}
        for node in nodes:
            allocatable = node.get("status", {}).get("allocatable", {})
            free[node["metadata"]["name"]] = {
                name: quantity.parse(allocatable.get(name, "0"))[0] for name in TRACKED
            }
        for pod in pods:
            node_name = pod["spec"].get("nodeName")
            if node_name in free:
                for name, value in pod_requests(pod).items():
                    free[node_name][name] -= value
        return free

    def schedule(self, pods: list[dict[str, Any]]) -> None:
        nodes, _ = self.fake.store.list(NODE)
        free = self._free(nodes, pods)
        for pod in pods:
            meta = pod["metadata"]
            if pod["spec"].get("nodeName") or meta.get("deletionTimestamp"):
                continue
            wanted = pod_requests(pod)
            fits = [n for n, left in free.items() if all(wanted[r] <= left[r] for r in TRACKED)]
            if fits:
                node = sorted(fits)[0]
                for name in TRACKED:
                    free[node][name] -= wanted[name]
                self._bind(pod, node)
            else:
                self._unschedulable(pod, nodes, free, wanted)

    def _bind(self, pod: dict[str, Any], node: str) -> None:
        meta = pod["metadata"]

        def bind(obj: dict[str, Any]) -> None:
            obj["spec"]["nodeName"] = node

        self.fake.store.mutate(POD, meta["namespace"], meta["name"], bind)

        def scheduled(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = "Pending"
            _set_condition(status, _condition("PodScheduled", True))

        self.fake.store.mutate(POD, meta["namespace"], meta["name"], scheduled, "status")
        self.fake.events.record(pod, "Scheduled",
                                f"Successfully assigned {meta['namespace']}/{meta['name']} to "
                                f"{node}", component="default-scheduler")

    def _unschedulable(self, pod: dict[str, Any], nodes: list[dict[str, Any]],
                       free: dict[str, dict[str, Decimal]], wanted: dict[str, Decimal]) -> None:
        short = sorted({r for left in free.values() for r in TRACKED if wanted[r] > left[r]})
        reasons = ", ".join(f"{len(nodes)} Insufficient {r}" for r in short)
        message = f"0/{len(nodes)} nodes are available: {reasons or 'no nodes'}."
        meta = pod["metadata"]

        def pending(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = "Pending"
            _set_condition(status, _condition("PodScheduled", False, "Unschedulable", message))

        self.fake.store.mutate(POD, meta["namespace"], meta["name"], pending, "status")
        self.fake.events.record(pod, "FailedScheduling", message, "Warning", "default-scheduler")

    # ------------------------------------------------------------------ running
    def run(self, pods: list[dict[str, Any]]) -> None:
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                self._terminate(pod)
            elif pod["spec"].get("nodeName"):
                self._step(pod)

    def _tick(self, pod: dict[str, Any]) -> int:
        uid = pod["metadata"]["uid"]
        self._ticks[uid] = self._ticks.get(uid, 0) + 1
        return self._ticks[uid]

    def _terminate(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        if not pod["spec"].get("nodeName") or self._tick(pod) > self.fake.termination_ticks:
            self.fake.store.purge(POD, meta["namespace"], meta["name"])
            self.fake.logs.forget(meta["namespace"], meta["name"])
            self._ticks.pop(meta["uid"], None)

    def _step(self, pod: dict[str, Any]) -> None:
        ticks = self._tick(pod)
        behaviour = self.fake.behaviour_for(pod)
        meta = pod["metadata"]
        if ticks == 1:
            for container in pod["spec"]["containers"]:
                self.fake.logs.write(meta["namespace"], meta["name"], container["name"],
                                     f"starting {container['name']} ({container['image']})")
            self.fake.events.record(pod, "Started", "Started container", component="kubelet")
        crashing = behaviour.mode in ("crash", "oom")
        crash_now = crashing and (ticks - 1) % self.fake.crash_ticks == 0
        if crash_now:
            self._crash(pod, behaviour, first=ticks == 1)

        def update(obj: dict[str, Any]) -> None:
            self._status(obj, behaviour, ticks, crash_now)

        self.fake.store.mutate(POD, meta["namespace"], meta["name"], update, "status")

    def _crash(self, pod: dict[str, Any], behaviour: Behaviour, first: bool) -> None:
        """The container (re)starts and dies. Its output stays the current log until the
        next start, as `kubectl logs` shows a crash-looping pod's last crash."""
        meta = pod["metadata"]
        for container in pod["spec"]["containers"]:
            where = (meta["namespace"], meta["name"], container["name"])
            if not first:
                self.fake.logs.restart(*where)
                self.fake.logs.write(*where, f"starting {container['name']} ({container['image']})")
            if behaviour.mode == "crash" and behaviour.message:
                self.fake.logs.write(*where, behaviour.message)
        self.fake.events.record(pod, "BackOff", "Back-off restarting failed container",
                                "Warning", "kubelet")

    def _status(self, pod: dict[str, Any], behaviour: Behaviour, ticks: int, crash_now: bool
                ) -> None:
        status = pod.setdefault("status", {})
        if "podIP" not in status:
            self._ip += 1
            status.update(podIP=f"10.244.{self._ip // 250}.{self._ip % 250 + 1}",
                          hostIP="10.0.0.1", startTime=now_iso())
        status["phase"] = "Running"
        ready = behaviour.mode == "ready" and ticks >= 2
        old = {s["name"]: s for s in status.get("containerStatuses") or []}
        statuses = []
        for container in pod["spec"]["containers"]:
            previous = old.get(container["name"], {})
            entry = {
                "name": container["name"], "image": container["image"],
                "imageID": f"docker.io/{container['image']}@sha256:{'0' * 64}",
                "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}",
                "ready": ready, "started": behaviour.mode in ("ready", "unready"),
                "restartCount": previous.get("restartCount", 0),
                "state": previous.get("state") or {"running": {"startedAt": now_iso()}},
                "lastState": previous.get("lastState") or {},
            }
            if behaviour.mode in ("crash", "oom"):
                self._crash_status(entry, behaviour, crash_now)
            elif "running" not in entry["state"]:
                entry["state"] = {"running": {"startedAt": now_iso()}}
            statuses.append(entry)
        status["containerStatuses"] = statuses
        for type_ in ("Initialized", "PodScheduled"):
            _set_condition(status, _condition(type_, True))
        reason = None if ready else "ContainersNotReady"
        for type_ in ("ContainersReady", "Ready"):
            _set_condition(status, _condition(type_, ready, reason))

    @staticmethod
    def _crash_status(entry: dict[str, Any], behaviour: Behaviour, crash_now: bool) -> None:
        if not crash_now:
            return
        oom = behaviour.mode == "oom"
        terminated: dict[str, Any] = {
            "exitCode": 137 if oom else 1,
            "reason": "OOMKilled" if oom else "Error",
            "startedAt": now_iso(), "finishedAt": now_iso(),
            "containerID": entry["containerID"],
        }
        if behaviour.message and not oom:
            terminated["message"] = behaviour.message
        entry["lastState"] = {"terminated": terminated}
        entry["restartCount"] += 1
        entry["state"] = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container={entry['name']}",
        }}
