"""Watch streams: JSON lines of ADDED / MODIFIED / DELETED, ERROR 410 for compacted versions."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from tests.helpers.fakekube.resources import ApiError, Resource
from tests.helpers.fakekube.selectors import matches_fields, matches_labels
from tests.helpers.fakekube.store import Store

DEFAULT_TIMEOUT = 1800.0  # seconds, when the client gives no timeoutSeconds


def event(kind: str, obj: dict[str, Any]) -> bytes:
    return (json.dumps({"type": kind, "object": obj}) + "\n").encode()


def watch_stream(store: Store, res: Resource, namespace: str | None, query: dict[str, str],
                 stopping: threading.Event) -> Iterator[bytes]:
    """Without a resourceVersion (or "0"): the current objects as ADDED, then the changes.
    From a version: every change after it, or one ERROR 410 when it was compacted away.
    Ends at `timeoutSeconds`, as the real server does."""
    labels, fields = query.get("labelSelector"), query.get("fieldSelector")
    deadline = time.monotonic() + float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    version = query.get("resourceVersion")
    if not version or version == "0":
        items, rv = store.list(res, namespace, labels, fields)
        for item in items:
            yield event("ADDED", item)
    else:
        rv = int(version)
    while not stopping.is_set():
        try:
            changes = store.changes_after(rv)
        except ApiError as exc:
            yield event("ERROR", exc.status())
            return
        for change in changes:
            rv = change.rv
            if change.resource is not res or (namespace and change.namespace != namespace):
                continue
            if matches_labels(change.obj, labels) and matches_fields(change.obj, fields):
                yield event(change.type, change.obj)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        with store.cond:
            if store.resource_version <= rv:
                store.cond.wait(min(left, 0.5))
