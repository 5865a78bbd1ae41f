"""Objects, resource versions and the change history watches replay (thread-safe)."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.helpers.fakekube import admission, validation
from tests.helpers.fakekube.resources import (
    ApiError,
    Resource,
    already_exists,
    by_kind,
    conflict,
    not_found,
)
from tests.helpers.fakekube.selectors import matches_fields, matches_labels

Obj = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Change:
    rv: int
    resource: Resource
    namespace: str
    type: str  # ADDED, MODIFIED, DELETED
    obj: Obj


class Store:
    def __init__(self, history: int = 5000) -> None:
        self.cond = threading.Condition()
        self._objects: dict[tuple[str, str, str], Obj] = {}
        self._rv = 0
        self._history: deque[Change] = deque(maxlen=history)
        self._lost_rv = 0  # changes at or below this version are no longer replayable
        self._forced_conflicts: dict[str, int] = {}

    # ------------------------------------------------------------------ reading
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, res: Resource, namespace: str, name: str) -> Obj:
        with self.cond:
            obj = self._objects.get((res.qualified, namespace, name))
            if obj is None:
                raise not_found(res, name)
            return copy.deepcopy(obj)

    def find(self, res: Resource, namespace: str, name: str) -> Obj | None:
        try:
            return self.get(res, namespace, name)
        except ApiError:
            return None

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], int]:
        with self.cond:
            items = [
                copy.deepcopy(obj)
                for (kind, ns, _), obj in sorted(self._objects.items())
                if kind == res.qualified
                and (namespace is None or ns == namespace)
                and matches_labels(obj, label_selector)
                and matches_fields(obj, field_selector)
            ]
            return items, self._rv

    def all_objects(self) -> Iterator[tuple[Resource, Obj]]:
        with self.cond:
            snapshot = [copy.deepcopy(o) for o in self._objects.values()]
        for obj in snapshot:
            yield by_kind(obj["kind"]), obj

    def changes_after(self, rv: int) -> list[Change]:
        """Changes newer than `rv`; raises 410 Gone when some were compacted away."""
        with self.cond:
            if rv < self._lost_rv:
                raise ApiError(
                    410, "Expired", f"too old resource version: {rv} ({self._lost_rv + 1})"
                )
            return [c for c in self._history if c.rv > rv]

    def compact(self) -> None:
        """Forget the change history, as etcd compaction does (old watches get 410)."""
        with self.cond:
            self._history.clear()
            self._lost_rv = self._rv

    # ------------------------------------------------------------------ writing
    def force_conflicts(self, plural: str, count: int = 1) -> None:
        """The next `count` client updates of this resource fail with 409 Conflict, as if a
        controller had written the object between the client's read and its write."""
        with self.cond:
            self._forced_conflicts[plural] = count

    def _take_forced_conflict(self, res: Resource) -> bool:
        left = self._forced_conflicts.get(res.plural, 0)
        if left <= 0:
            return False
        self._forced_conflicts[res.plural] = left - 1
        return True

    def _record(self, res: Resource, namespace: str, kind: str, obj: Obj) -> None:
        if self._history.maxlen and len(self._history) == self._history.maxlen:
            self._lost_rv = self._history[0].rv
        self._history.append(Change(self._rv, res, namespace, kind, copy.deepcopy(obj)))
        self.cond.notify_all()

    def _bump(self, obj: Obj) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)

    def create(self, res: Resource, namespace: str, obj: Obj, dry_run: bool = False) -> Obj:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name") or ""
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        with self.cond:
            if res.namespaced:
                ns_res = by_kind("Namespace")
                if (ns_res.qualified, "", namespace) not in self._objects:
                    raise not_found(ns_res, namespace)
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            key = (res.qualified, namespace if res.namespaced else "", name)
            validation.prepare_for_create(res, obj)
            validation.default(res, obj)
            validation.validate(res, obj, None)
            if key in self._objects:
                raise already_exists(res, name)
            if res.kind == "Pod":
                admission.admit_pod(self, namespace, obj)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_iso())
            if "spec" in obj:
                meta["generation"] = 1
            for transient in ("resourceVersion", "deletionTimestamp"):
                meta.pop(transient, None)
            if dry_run:  # validated and defaulted, never stored
                return copy.deepcopy(obj)
            self._bump(obj)
            self._objects[key] = obj
            self._record(res, key[1], "ADDED", obj)
            return copy.deepcopy(obj)

    def update(
        self,
        res: Resource,
        namespace: str,
        name: str,
        obj: Obj,
        subresource: str | None = None,
        by_client: bool = True,
        dry_run: bool = False,
    ) -> Obj:
        """PUT semantics: the main resource keeps the live status; `status` keeps the rest."""
        ns = namespace if res.namespaced else ""
        with self.cond:
            live = self._objects.get((res.qualified, ns, name))
            if live is None:
                raise not_found(res, name)
            wanted = (obj.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != live["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            if by_client and not dry_run and self._take_forced_conflict(res):
                raise conflict(res, name)
            new = self._merge_for_update(res, live, copy.deepcopy(obj), subresource)
            validation.default(res, new)
            if _same(new, live):
                return copy.deepcopy(live)  # a no-op write does not bump the version
            validation.validate(res, new, live)
            if dry_run:
                return copy.deepcopy(new)
            self._bump(new)
            self._objects[(res.qualified, ns, name)] = new
            self._record(res, ns, "MODIFIED", new)
            self._finish_deletion_if_done(res, ns, name, new)
            return copy.deepcopy(new)

    @staticmethod
    def _merge_for_update(res: Resource, live: Obj, new: Obj, subresource: str | None) -> Obj:
        if subresource == "status":
            merged = copy.deepcopy(live)
            merged["status"] = new.get("status", {})
            return merged
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        meta = new.setdefault("metadata", {})
        for kept in ("uid", "creationTimestamp", "namespace", "name", "generation",
                     "deletionTimestamp", "deletionGracePeriodSeconds"):
            if kept in live["metadata"]:
                meta[kept] = live["metadata"][kept]
        if "status" in live:
            new["status"] = live["status"]
        if "spec" in new and new.get("spec") != live.get("spec"):
            meta["generation"] = live["metadata"].get("generation", 0) + 1
        return new

    def _finish_deletion_if_done(self, res: Resource, ns: str, name: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(res, ns, name)

    def mutate(self, res: Resource, namespace: str, name: str, change: Callable[[Obj], None],
               subresource: str | None = None) -> Obj | None:
        """Controller-side read-modify-write (no conflicts forced); None when the object is gone."""
        with self.cond:
            obj = self.find(res, namespace, name)
            if obj is None:
                return None
            change(obj)
            return self.update(res, namespace, name, obj, subresource, by_client=False)

    def _remove(self, res: Resource, ns: str, name: str) -> Obj:
        obj = self._objects.pop((res.qualified, ns, name))
        self._bump(obj)
        self._record(res, ns, "DELETED", obj)
        return obj

    def purge(self, res: Resource, namespace: str, name: str) -> Obj | None:
        """Remove the object now, whatever its finalizers (the end of a graceful deletion)."""
        ns = namespace if res.namespaced else ""
        with self.cond:
            if (res.qualified, ns, name) not in self._objects:
                return None
            return copy.deepcopy(self._remove(res, ns, name))

    def delete(self, res: Resource, namespace: str, name: str, graceful: bool = False) -> Obj:
        """Remove the object now, or (graceful / finalizers) mark it for deletion."""
        ns = namespace if res.namespaced else ""
        with self.cond:
            live = self._objects.get((res.qualified, ns, name))
            if live is None:
                raise not_found(res, name)
            if not graceful and not live["metadata"].get("finalizers"):
                return copy.deepcopy(self._remove(res, ns, name))
            if live["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(live)
            marked = copy.deepcopy(live)
            marked["metadata"]["deletionTimestamp"] = now_iso()
            self._bump(marked)
            self._objects[(res.qualified, ns, name)] = marked
            self._record(res, ns, "MODIFIED", marked)
            return copy.deepcopy(marked)


def _same(a: Obj, b: Obj) -> bool:
    strip = ("resourceVersion",)
    a_meta = {k: v for k, v in a["metadata"].items() if k not in strip}
    b_meta = {k: v for k, v in b["metadata"].items() if k not in strip}
    return a_meta == b_meta and json.dumps(
        {k: v for k, v in a.items() if k != "metadata"}, sort_keys=True
    ) == json.dumps({k: v for k, v in b.items() if k != "metadata"}, sort_keys=True)
