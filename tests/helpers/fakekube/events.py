"""core/v1 Events, recorded by the fake's controllers as the real ones do (counted, deduped)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

from tests.helpers.fakekube.resources import ApiError, by_kind
from tests.helpers.fakekube.store import Store, now_iso

EVENT = by_kind("Event")


class Recorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def record(
        self, obj: dict[str, Any], reason: str, message: str, type_: str = "Normal",
        component: str = "fake-controller",
    ) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), reason, message)
        stamp = now_iso()
        with self._lock:
            name = self._names.get(key)
            if name is not None:
                def bump(event: dict[str, Any]) -> None:
                    event["count"] = event.get("count", 1) + 1
                    event["lastTimestamp"] = stamp

                if self.store.mutate(EVENT, namespace, name, bump) is not None:
                    return
            name = f"{meta['name']}.{uuid.uuid4().hex[:16]}"
            self._names[key] = name
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "kind": obj["kind"], "apiVersion": obj["apiVersion"], "name": meta["name"],
                "namespace": namespace, "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": component},
            "reportingComponent": component,
        }
        with contextlib.suppress(ApiError):  # the namespace may be going away
            self.store.create(EVENT, namespace, event)
