"""The fake's controllers: Deployment -> ReplicaSet -> Pods, HPA, garbage collection.

One thread reconciles everything every `tick` seconds, in the order the real components would
converge: GC, deployments, replica sets, scheduler, kubelet, autoscaler.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import sys
import threading
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

from tests.helpers.fakekube.hpa import HpaController
from tests.helpers.fakekube.kubelet import Kubelet
from tests.helpers.fakekube.resources import ApiError, by_kind
from tests.helpers.fakekube.store import now_iso

if TYPE_CHECKING:
    from tests.helpers.fakekube.fake import FakeKube

Obj = dict[str, Any]
DEPLOYMENT = by_kind("Deployment")
REPLICASET = by_kind("ReplicaSet")
POD = by_kind("Pod")
HPA = by_kind("HorizontalPodAutoscaler")
NAMESPACE = by_kind("Namespace")
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CREATE_BACKOFF = 0.5  # seconds before a ReplicaSet retries a pod creation admission refused


def owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True,
    }


def owned_by(obj: Obj, owner: Obj) -> bool:
    uid = owner["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def is_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def template_hash(template: Obj) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def _each(step: Any, *args: Any) -> None:
    with contextlib.suppress(ApiError):
        step(*args)


class Controllers:
    def __init__(self, fake: FakeKube) -> None:
        self.fake = fake
        self.store = fake.store
        self.kubelet = Kubelet(fake)
        self._retry_at: dict[str, float] = {}  # ReplicaSet uid -> when to try creating again
        self.hpa = HpaController(fake)

    def loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.fake.tick):
            try:
                self.reconcile()
            except ApiError:
                pass  # raced with a client write: the next tick converges
            except Exception:  # a bug in the fake: show it in the test output, keep going
                traceback.print_exc(file=sys.stderr)

    def reconcile(self) -> None:
        """One pass; an object whose reconcile races a client write is retried next tick
        without holding up the others."""
        _each(self.collect_garbage)
        for deployment in self.store.list(DEPLOYMENT)[0]:
            _each(self.deployment, deployment)
        for replicaset in self.store.list(REPLICASET)[0]:
            _each(self.replicaset, replicaset)
        _each(self.kubelet.schedule, self.store.list(POD)[0])
        _each(self.kubelet.run, self.store.list(POD)[0])
        for hpa in self.store.list(HPA)[0]:
            _each(self.hpa.autoscale, hpa)

    # ------------------------------------------------------------------ garbage collection
    def collect_garbage(self) -> None:
        objects = list(self.store.all_objects())
        alive = {o["metadata"]["uid"] for _, o in objects
                 if "foregroundDeletion" not in (o["metadata"].get("finalizers") or [])}
        dying_namespaces = {o["metadata"]["name"] for r, o in objects
                            if r is NAMESPACE and o["metadata"].get("deletionTimestamp")}
        dependents: dict[str, int] = {}
        for res, obj in objects:
            meta = obj["metadata"]
            refs = meta.get("ownerReferences") or []
            for ref in refs:
                dependents[ref["uid"]] = dependents.get(ref["uid"], 0) + 1
            orphaned = refs and not any(ref["uid"] in alive for ref in refs)
            if (orphaned or meta.get("namespace") in dying_namespaces) and not meta.get(
                "deletionTimestamp"
            ):
                self.store.delete(res, meta.get("namespace", ""), meta["name"], res is POD)
        for res, obj in objects:
            meta = obj["metadata"]
            finalizers = meta.get("finalizers") or []
            if "foregroundDeletion" in finalizers and not dependents.get(meta["uid"]):
                self.store.purge(res, meta.get("namespace", ""), meta["name"])
            if res is NAMESPACE and meta["name"] in dying_namespaces and not any(
                o["metadata"].get("namespace") == meta["name"] for _, o in objects
            ):
                self.store.purge(NAMESPACE, "", meta["name"])

    # ------------------------------------------------------------------ deployments
    def _owned(self, res: Any, owner: Obj) -> list[Obj]:
        namespace = owner["metadata"]["namespace"]
        return [o for o in self.store.list(res, namespace)[0] if owned_by(o, owner)]

    def _new_replicaset(self, deployment: Obj, hash_: str, revision: int) -> Obj:
        meta, spec = deployment["metadata"], deployment["spec"]
        template = json.loads(json.dumps(spec["template"]))
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hash_
        selector = json.loads(json.dumps(spec["selector"]))
        selector.setdefault("matchLabels", {})[HASH_LABEL] = hash_
        replicaset = {
            "metadata": {
                "name": f"{meta['name']}-{hash_}", "labels": template["metadata"]["labels"],
                "annotations": {REVISION: str(revision)},
                "ownerReferences": [owner_ref(deployment)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        return self.store.create(REPLICASET, meta["namespace"], replicaset)

    def deployment(self, deployment: Obj) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        if meta.get("deletionTimestamp"):
            return
        replicasets = self._owned(REPLICASET, deployment)
        hash_ = template_hash(spec["template"])
        new = next((r for r in replicasets if r["metadata"]["labels"].get(HASH_LABEL) == hash_),
                   None)
        if new is None:
            revision = 1 + max((int(r["metadata"]["annotations"].get(REVISION, 0))
                                for r in replicasets), default=0)
            new = self._new_replicaset(deployment, hash_, revision)
            replicasets.append(new)
        old = [r for r in replicasets if r is not new]
        self._roll(deployment, new, old)
        revision = new["metadata"]["annotations"][REVISION]
        if meta.get("annotations", {}).get(REVISION) != revision:
            def annotate(obj: Obj) -> None:
                obj["metadata"].setdefault("annotations", {})[REVISION] = revision

            self.store.mutate(DEPLOYMENT, meta["namespace"], meta["name"], annotate)
        self._deployment_status(deployment, new, old)

    def _roll(self, deployment: Obj, new: Obj, old: list[Obj]) -> None:
        """Rolling update: surge the new set, retire old pods only as new ones become ready."""
        desired = deployment["spec"].get("replicas", 1)
        rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        surge = _scaled(rolling.get("maxSurge", "25%"), desired, round_up=True)
        unavailable = _scaled(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        old_total = sum(r["spec"].get("replicas", 0) for r in old)
        current_new = new["spec"].get("replicas", 0)
        new_target = min(desired, max(current_new, desired + surge - old_total))
        if not old:
            new_target = desired
        self._scale_replicaset(deployment, new, new_target)
        new_ready = (new.get("status") or {}).get("readyReplicas", 0)
        keep = max(0, desired - unavailable - new_ready) if old else 0
        for replicaset in sorted(old, key=lambda r: -int(r["metadata"]["annotations"][REVISION])):
            target = min(replicaset["spec"].get("replicas", 0), keep)
            keep -= target
            self._scale_replicaset(deployment, replicaset, target)

    def _scale_replicaset(self, deployment: Obj, replicaset: Obj, replicas: int) -> None:
        current = replicaset["spec"].get("replicas", 0)
        if current == replicas:
            return
        meta = replicaset["metadata"]

        def scale(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas

        self.store.mutate(REPLICASET, meta["namespace"], meta["name"], scale)
        replicaset["spec"]["replicas"] = replicas
        word = "up" if replicas > current else "down"
        self.fake.events.record(deployment, "ScalingReplicaSet",
                                f"Scaled {word} replica set {meta['name']} from {current} to "
                                f"{replicas}", component="deployment-controller")

    def _deployment_status(self, deployment: Obj, new: Obj, old: list[Obj]) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        pods = [p for r in [new, *old] for p in self._owned(POD, r)
                if not p["metadata"].get("deletionTimestamp")]
        updated = [p for p in pods if owned_by(p, new)]
        ready = sum(1 for p in pods if is_ready(p))
        desired = spec.get("replicas", 1)
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        unavailable = _scaled(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        complete = len(updated) == desired == len(pods) and all(is_ready(p) for p in updated)
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": len(updated),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, desired - ready),
        }
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        wanted_conditions = [
            ("Available", ready >= desired - unavailable,
             "MinimumReplicasAvailable" if ready >= desired - unavailable
             else "MinimumReplicasUnavailable"),
            ("Progressing", True, "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated"),
        ]
        old_conditions = {c["type"]: c for c in (deployment.get("status") or {}).get("conditions")
                          or []}
        conditions = []
        for type_, ok, reason in wanted_conditions:
            previous = old_conditions.get(type_)
            value = "True" if ok else "False"
            if previous and (previous["status"], previous.get("reason")) == (value, reason):
                conditions.append(previous)
            else:
                conditions.append({"type": type_, "status": value, "reason": reason,
                                   "message": f"{reason} for {meta['name']}",
                                   "lastUpdateTime": now_iso(), "lastTransitionTime": now_iso()})
        status["conditions"] = conditions
        if deployment.get("status") != status:
            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(DEPLOYMENT, meta["namespace"], meta["name"], write, "status")

    # ------------------------------------------------------------------ replica sets
    def replicaset(self, replicaset: Obj) -> None:
        meta, spec = replicaset["metadata"], replicaset["spec"]
        if meta.get("deletionTimestamp"):
            return
        pods = [p for p in self._owned(POD, replicaset)
                if not p["metadata"].get("deletionTimestamp")]
        wanted = spec.get("replicas", 0)
        failure = None
        if time.monotonic() < self._retry_at.get(meta["uid"], 0.0):
            return  # backing off after a refused create, as the real controller does
        for _ in range(wanted - len(pods)):
            try:
                pods.append(self._create_pod(replicaset))
            except ApiError as exc:  # admission refused it (Pod Security, quota)
                failure = exc.message
                self.fake.events.record(replicaset, "FailedCreate", f"Error creating: {failure}",
                                        type_="Warning", component="replicaset-controller")
                self._retry_at[meta["uid"]] = time.monotonic() + CREATE_BACKOFF
                break
        if len(pods) > wanted:
            victims = sorted(pods, key=lambda p: (bool(p["spec"].get("nodeName")), is_ready(p),
                                                  p["metadata"]["creationTimestamp"]))
            for pod in victims[: len(pods) - wanted]:
                self.store.delete(POD, meta["namespace"], pod["metadata"]["name"], graceful=True)
                self.fake.events.record(replicaset, "SuccessfulDelete",
                                        f"Deleted pod: {pod['metadata']['name']}",
                                        component="replicaset-controller")
                pods.remove(pod)
        ready = sum(1 for p in pods if is_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": meta.get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        if failure is not None:
            status["conditions"] = [{"type": "ReplicaFailure", "status": "True",
                                     "reason": "FailedCreate", "message": failure,
                                     "lastTransitionTime": now_iso()}]
        if _without_times(replicaset.get("status")) != _without_times(status):
            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(REPLICASET, meta["namespace"], meta["name"], write, "status")
            replicaset["status"] = status

    def _create_pod(self, replicaset: Obj) -> Obj:
        meta, template = replicaset["metadata"], replicaset["spec"]["template"]
        pod = {
            "metadata": {
                "name": f"{meta['name']}-{uuid.uuid4().hex[:5]}",
                "labels": dict(template["metadata"].get("labels") or {}),
                "annotations": dict(template["metadata"].get("annotations") or {}),
                "ownerReferences": [owner_ref(replicaset)],
            },
            "spec": json.loads(json.dumps(template["spec"])),
            "status": {"phase": "Pending"},
        }
        created = self.store.create(POD, meta["namespace"], pod)
        self.fake.events.record(replicaset, "SuccessfulCreate",
                                f"Created pod: {created['metadata']['name']}",
                                component="replicaset-controller")
        return created


def _without_times(status: Obj | None) -> Obj:
    """A status without its conditions' timestamps: an unchanged failure is not a new write."""
    status = json.loads(json.dumps(status or {}))
    for condition in status.get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return status
