"""Operator settings, read from the environment the operator was started with.

Defaults are Kubernetes' (15 s HPA sync, 300 s scale-down stabilisation); tests shorten them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cortex_tui.config.model import DEFAULT_SYNC_PERIOD, sync_period

ENV_PREFIX = "CORTEX_TUI_"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class OperatorOptions:
    sync_period: float = DEFAULT_SYNC_PERIOD  # HPA sync period (s)
    scale_down_window: float = 300.0  # HPA scale-down stabilisation window (s)
    scrape_period: float = 5.0  # how often /stats and CPU times are sampled (s)
    restart_backoff: float = 1.0  # first restart delay; doubles per failure (s)
    restart_backoff_max: float = 60.0
    failures_before_error: int = 3  # consecutive failures before the API shows `error`
    stable_after: float = 10.0  # a replica ready this long clears the failure count (s)
    drain_timeout: float = 30.0  # SIGTERM → SIGKILL for a replica being stopped (s)
    tick: float = 0.2  # supervisor loop period (s)
    log_max_bytes: int = 10 << 20  # a replica's log is rotated past this (kubelet: 10Mi)

    @classmethod
    def from_env(cls) -> OperatorOptions:
        return cls(
            sync_period=sync_period(),  # config validation checks `window` against it
            scale_down_window=_float("SCALE_DOWN_WINDOW", cls.scale_down_window),
            scrape_period=_float("SCRAPE_PERIOD", cls.scrape_period),
            restart_backoff=_float("RESTART_BACKOFF", cls.restart_backoff),
            restart_backoff_max=_float("RESTART_BACKOFF_MAX", cls.restart_backoff_max),
            failures_before_error=int(_float("FAILURES_BEFORE_ERROR", cls.failures_before_error)),
            drain_timeout=_float("DRAIN_TIMEOUT", cls.drain_timeout),
            stable_after=_float("STABLE_AFTER", cls.stable_after),
            log_max_bytes=int(_float("LOG_MAX_MB", cls.log_max_bytes / (1 << 20)) * (1 << 20)),
        )
