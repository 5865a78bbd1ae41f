"""The autoscaling rules shared by `scale` on every target and the TUI's scale dialog."""

from __future__ import annotations

from dataclasses import replace

from cortex_tui.config.model import IN_FLIGHT_KEYS, Compute
from cortex_tui.errors import UserError

# The compute fields `scale` changes; they roll no replica (the HPA / the autoscaler owns them).
SCALE_KEYS = ("min_replicas", "max_replicas", "init_replicas", "target_cpu_utilization")
# Every compute field only the autoscaler reads: changing them rolls no replica, and replicas
# (a pod's cortex.yaml) never see them.
AUTOSCALER_KEYS = (*SCALE_KEYS, "autoscale_on", *IN_FLIGHT_KEYS)


class ScaleError(UserError):
    """A scale request that breaks the rules of SPEC §2; the message says which."""


def apply_scale(
    compute: Compute,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    init_replicas: int | None = None,
    target_cpu_utilization: int | None = None,
) -> Compute:
    """Return `compute` with the given bounds changed, or raise ScaleError naming the rule.

    `min_replicas` and `init_replicas` may be 0 (scale to zero) with `autoscale_on: in_flight`;
    a target that cannot scale to zero (Kubernetes) refuses it itself.
    A changed `min_replicas` drags `init_replicas` along when the caller did not set it, so
    `scale --min 3` on an API with init 1 does not fail on a rule the user never touched.
    """
    new_min = compute.min_replicas if min_replicas is None else min_replicas
    new_max = compute.max_replicas if max_replicas is None else max_replicas
    if init_replicas is None:
        new_init = min(max(compute.init_replicas, new_min), new_max)
    else:
        new_init = init_replicas
    target = (
        compute.target_cpu_utilization if target_cpu_utilization is None else target_cpu_utilization
    )
    zero_ok = compute.autoscale_on == "in_flight"
    for key, value in (
        ("min_replicas", new_min),
        ("max_replicas", new_max),
        ("init_replicas", new_init),
        ("target_cpu_utilization", target),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScaleError(f"{key} must be an integer (got {value!r})")
        if value == 0 and zero_ok and key in ("min_replicas", "init_replicas"):
            continue
        if value <= 0:
            raise ScaleError(f"{key} must be greater than 0 (got {value})")
    if target > 100:
        raise ScaleError(f"target_cpu_utilization must be at most 100 (got {target})")
    if new_min > new_max:
        raise ScaleError(
            f"min_replicas ({new_min}) must be less than or equal to max_replicas ({new_max})"
        )
    if not new_min <= new_init <= new_max:
        raise ScaleError(
            f"init_replicas ({new_init}) must be between min_replicas ({new_min}) "
            f"and max_replicas ({new_max})"
        )
    return replace(
        compute,
        min_replicas=new_min,
        max_replicas=new_max,
        init_replicas=new_init,
        target_cpu_utilization=target,
    )
