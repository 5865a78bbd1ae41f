"""What a load test does: its profile, its load (connections or a target rate) and its length.

Defaults and bounds are defined here once; the CLI, the TUI dialog and the generator read them.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

Profile = Literal["constant", "step", "ramp", "spike"]
PROFILES: tuple[Profile, ...] = ("constant", "step", "ramp", "spike")
DEFAULT_PROFILE: Profile = "constant"
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 1024
DEFAULT_DURATION = 30.0
MAX_DURATION = 600.0
MAX_RATE = 1_000_000.0
DEFAULT_MAX_ERROR_RATE = 0.01
STEPS = 4  # the step profile climbs in quarters
SPIKE = (0.4, 0.6)  # the spike profile's full load, as fractions of the duration
SPIKE_BASE = 0.2  # and its load outside the spike
RAMP_FLOOR = 0.05  # a ramp starts at 5 % (a rate of 0 would never send its first request)


class LoadSpecError(ValueError):
    """A value outside the bounds; the message names the field."""


@dataclass(frozen=True)
class LoadSpec:
    profile: Profile = DEFAULT_PROFILE
    concurrency: int = DEFAULT_CONCURRENCY  # connections; with a rate, the most in flight
    rate: float | None = None  # requests per second at full load; None: closed loop
    duration: float = DEFAULT_DURATION  # seconds

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise LoadSpecError(f"profile: must be one of {', '.join(PROFILES)} "
                                f"(got {self.profile!r})")
        if isinstance(self.concurrency, bool) or not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise LoadSpecError(f"concurrency: must be 1..{MAX_CONCURRENCY} "
                                f"(got {self.concurrency})")
        if self.rate is not None and not 0 < self.rate <= MAX_RATE:
            raise LoadSpecError(f"rate: must be above 0 and at most {MAX_RATE:.0f} requests/s "
                                f"(got {self.rate:g})")
        if not 0 < self.duration <= MAX_DURATION:
            raise LoadSpecError(f"duration: must be above 0 and at most {MAX_DURATION / 60:.0f} "
                                f"minutes (got {self.duration:g} s)")

    def level(self, t: float) -> float:
        """The fraction of full load (0..1] the profile asks for `t` seconds into the test."""
        x = min(max(t / self.duration, 0.0), 1.0)
        if self.profile == "step":
            return min(STEPS, math.floor(x * STEPS) + 1) / STEPS
        if self.profile == "ramp":
            return max(x, RAMP_FLOOR)
        if self.profile == "spike":
            return 1.0 if SPIKE[0] <= x < SPIKE[1] else SPIKE_BASE
        return 1.0

    def active_connections(self, t: float) -> int:
        """Closed loop: how many connections send at `t` (at least one)."""
        return max(1, math.ceil(self.concurrency * self.level(t) - 1e-9))

    def describe(self) -> str:
        load = f"{self.rate:g} req/s (at most {self.concurrency} in flight)" if self.rate \
            else f"{self.concurrency} connections"
        return f"{self.profile}, {load}, {self.duration:g} s"

    def short(self) -> str:
        """`step c16 30s`, `ramp 100/s 2m`: for narrow columns."""
        load = f"{self.rate:g}/s" if self.rate else f"c{self.concurrency}"
        minutes, seconds = divmod(round(self.duration), 60)
        length = f"{minutes}m{seconds or ''}{'s' if seconds else ''}" if minutes \
            else f"{self.duration:g}s"
        return f"{self.profile} {load} {length}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """`30`, `30s`, `2m`, `1m30s` -> seconds. Raises LoadSpecError."""
    m = _DURATION.fullmatch(text.strip())
    if not text.strip() or m is None or (m.group(1) is None and m.group(2) is None):
        raise LoadSpecError(f"duration: expected seconds or minutes like 30s, 2m, 1m30s "
                            f"(got {text!r})")
    return float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
