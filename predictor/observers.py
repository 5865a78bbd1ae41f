"""Observers of finished requests (the seam for CloudWatch and other publishers).

An observer is `observe(status: int, latency_ms: float, tracked: Any) -> None`, called on the
event loop after each prediction request is answered (see `predictor.state.Observer`). It must
only buffer; publishing happens on its own thread. Sources:

* `CORTEX_CLOUDWATCH_NAMESPACE` set: `predictor.cloudwatch.from_environ(...)`.
* `CORTEX_OBSERVERS="pkg.module:factory,..."`: `factory(api_spec, replica_name)` returns an
  observer (or None); anything with a `close()` method is closed at shutdown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from cortex_tui.config.model import ApiSpec
from predictor.logs import log
from predictor.state import Observer


class Observers:
    def __init__(self) -> None:
        self.observers: list[Observer] = []
        self._closers: list[Callable[[], Any]] = []

    def add(self, observer: Observer, owner: Any = None) -> None:
        self.observers.append(observer)
        close = getattr(owner if owner is not None else observer, "close", None)
        if callable(close):
            self._closers.append(close)

    def close(self) -> None:
        for close in self._closers:
            try:
                close()
            except Exception as exc:
                log.warning("observer close failed: %s: %s", type(exc).__name__, exc)


def load_observers(spec: ApiSpec, deployment: str, replica: str,
                   env: Mapping[str, str]) -> Observers:
    """Build the configured observers; a broken one is logged and skipped, never fatal."""
    found = Observers()
    if env.get("CORTEX_CLOUDWATCH_NAMESPACE", "").strip():
        try:
            from predictor import cloudwatch

            publisher = cloudwatch.from_environ(
                spec.name, deployment=deployment,
                model_type=spec.tracker.model_type if spec.tracker else None, environ=env,
            )
            if publisher is not None:
                found.add(publisher.observe, publisher)
        except Exception as exc:
            log.warning("cloudwatch observer not started: %s: %s", type(exc).__name__, exc)
    for ref in filter(None, (r.strip() for r in env.get("CORTEX_OBSERVERS", "").split(","))):
        try:
            module_name, _, attr = ref.partition(":")
            factory = getattr(importlib.import_module(module_name), attr or "make_observer")
            observer = factory(spec, replica)
            if observer is not None:
                found.add(observer)
        except Exception as exc:
            log.warning("observer %s not started: %s: %s", ref, type(exc).__name__, exc)
    return found
