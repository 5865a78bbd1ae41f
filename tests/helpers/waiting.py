"""Waiting on a condition with a deadline, instead of sleeping for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
               period: float = 0.02) -> Any:
    """Poll `condition` until it returns something truthy and return that; after `timeout`
    seconds fail the test, naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})"
            )
        time.sleep(period)
