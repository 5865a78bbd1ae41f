"""The voluptuous schemas of `kind: api` and `kind: deployment`, with plain-word messages.

Every leaf validator raises `Invalid` with the message the user reads; the few structural
messages voluptuous writes itself are translated in `loader.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from voluptuous import All, Invalid, MultipleInvalid, Optional, Required, Schema

from cortex_tui.config.model import (
    AUTOSCALE_SIGNALS,
    DEFAULT_AUTOSCALE_ON,
    DEFAULT_CPU,
    DEFAULT_DOWNSCALE_STABILIZATION,
    DEFAULT_GPU,
    DEFAULT_MAX_DOWNSCALE_FACTOR,
    DEFAULT_MAX_REPLICAS,
    DEFAULT_MAX_UPSCALE_FACTOR,
    DEFAULT_MIN_REPLICAS,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_SCALE_TO_ZERO_AFTER,
    DEFAULT_TARGET_CPU_UTILIZATION,
    DEFAULT_THREADS_PER_REPLICA,
    DEFAULT_TOLERANCE,
    DEFAULT_UPSCALE_STABILIZATION,
    DEFAULT_WINDOW,
    MAX_BATCH_SIZE,
    MAX_CONCURRENCY_LIMIT,
    MIN_BATCH_SIZE,
    MODEL_TYPES,
)
from cortex_tui.config.quantity import (
    QuantityError,
    describe,
    format_duration,
    parse_bytes,
    parse_cpu,
    parse_duration,
)

DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
KINDS = ("api", "deployment")


def integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    """An integer (never a bool, float or string) within [low, high]."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be an integer (got {describe(value)})")
        if low is not None and high is not None and not low <= value <= high:
            raise Invalid(f"must be between {low} and {high} (got {describe(value)})")
        if low is not None and value < low:
            if low == 1:
                raise Invalid(f"must be greater than 0 (got {describe(value)})")
            raise Invalid(f"must be {low} or more (got {describe(value)})")
        return value

    return check


def number(ok: Callable[[float], bool], rule: str) -> Callable[[Any], float]:
    """A number (int or float, never a bool or string) for which `ok` holds, as a float;
    `rule` says in words what `ok` checks ("must be greater than 0")."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise Invalid(f"must be a number (got {describe(value)})")
        if not ok(float(value)):
            raise Invalid(f"{rule} (got {describe(value)})")
        return float(value)

    return check


def period(positive: bool) -> Callable[[Any], float]:
    """An autoscaling duration ("500ms", "10s", "5m", "1h"); 0s allowed unless `positive`."""

    def check(value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except QuantityError as exc:
            raise Invalid(str(exc)) from None
        if positive and seconds <= 0:
            raise Invalid(f"must be longer than 0s (got {describe(value)})")
        return seconds

    return check


def autoscale_on(value: Any) -> str:
    if value not in AUTOSCALE_SIGNALS or not isinstance(value, str):
        raise Invalid(f'must be "cpu" or "in_flight" (got {describe(value)})')
    return value


def quantity(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return parse(value)
        except QuantityError as exc:
            raise Invalid(str(exc)) from None

    return check


def a_map(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"must be a map (got {describe(value)})")
    return value


def non_empty_string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"must be a non-empty string (got {describe(value)})")
    return value


def api_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 63 or not DNS_1035.fullmatch(value):
        raise Invalid(
            "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a "
            f"letter, not ending with '-', at most 63 characters (got {describe(value)})"
        )
    return value


def deployment_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 63 or not DNS_1123.fullmatch(value):
        raise Invalid(
            "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending "
            f"with a letter or digit, at most 63 characters (got {describe(value)})"
        )
    return value


# A container image reference: [registry[:port]/]path[:tag][@sha256:digest].
IMAGE = re.compile(
    r"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)


def image(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 255 or not IMAGE.fullmatch(value):
        raise Invalid("must be a container image reference such as "
                      f"registry.example.com/team/iris:1.2 (got {describe(value)})")
    return value


def model_type(value: Any) -> str:
    if value not in MODEL_TYPES or not isinstance(value, str):
        raise Invalid(f'must be "classification" or "regression" (got {describe(value)})')
    return value


def _non_string_keys(value: Any, path: list[Any]) -> Iterator[list[Any]]:
    """The paths to keys that are not strings, at any depth (JSON has no other keys)."""
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(value, dict) and not isinstance(key, str):
            yield [*path, key]
        else:
            yield from _non_string_keys(item, [*path, key])


def metadata_map(value: Any) -> dict[str, Any]:
    value = a_map(value)
    bad = [Invalid(f"keys must be strings (got {describe(p[-1])})", path=p)
           for p in _non_string_keys(value, [])]
    if bad:
        raise MultipleInvalid(bad)
    return value


MAX_DURATION_S = 60.0


def duration(value: Any) -> float:
    """A batch interval ("10ms", "0.5s", "250us") in seconds, > 0 and at most a minute."""
    try:
        seconds = parse_duration(value)
    except QuantityError:
        raise Invalid(f'must be a duration such as "10ms", "0.5s" or "250us" '
                      f"(got {describe(value)})") from None
    if not 0 < seconds <= MAX_DURATION_S:
        raise Invalid(f"must be greater than 0 and at most {MAX_DURATION_S:g}s "
                      f"(got {describe(value)})")
    return seconds


BATCHING = All(a_map, {
    Required("max_batch_size"): integer(MIN_BATCH_SIZE, MAX_BATCH_SIZE),
    Required("batch_interval"): duration,
})


TOLERANCE = number(lambda v: 0 <= v < 1, "must be 0 or more and less than 1 (a fraction)")

TRACKER = All(a_map, {
    Required("model_type"): model_type,
    Optional("key"): non_empty_string,
})

COMPUTE = All(a_map, {
    Optional("min_replicas", default=DEFAULT_MIN_REPLICAS): integer(0),
    Optional("max_replicas", default=DEFAULT_MAX_REPLICAS): integer(1),
    Optional("init_replicas"): integer(0),
    Optional("target_cpu_utilization", default=DEFAULT_TARGET_CPU_UTILIZATION): integer(1, 100),
    Optional("cpu", default=str(DEFAULT_CPU)): quantity(parse_cpu),
    Optional("gpu", default=DEFAULT_GPU): integer(0),
    Optional("mem", default=None): lambda v: None if v is None else quantity(parse_bytes)(v),
    Optional("threads_per_replica", default=DEFAULT_THREADS_PER_REPLICA): integer(1, 256),
    Optional("queue_size", default=DEFAULT_QUEUE_SIZE): integer(0),
    Optional("max_body_size"): quantity(parse_bytes),  # default: model.default_max_body_size
    Optional("max_concurrency"): integer(1, MAX_CONCURRENCY_LIMIT),  # default: by predict
    Optional("autoscale_on", default=DEFAULT_AUTOSCALE_ON): autoscale_on,
    Optional("target_in_flight"): number(lambda v: 0 < v < 1e6, "must be greater than 0"),
    Optional("window", default=format_duration(DEFAULT_WINDOW)): period(positive=True),
    Optional("upscale_stabilization", default=format_duration(DEFAULT_UPSCALE_STABILIZATION)):
        period(positive=False),
    Optional("downscale_stabilization",
             default=format_duration(DEFAULT_DOWNSCALE_STABILIZATION)): period(positive=False),
    Optional("max_upscale_factor", default=DEFAULT_MAX_UPSCALE_FACTOR):
        number(lambda v: 1 <= v <= 100, "must be 1 or more (a growth factor, at most 100)"),
    Optional("max_downscale_factor", default=DEFAULT_MAX_DOWNSCALE_FACTOR):
        number(lambda v: 0 < v <= 1, "must be greater than 0 and at most 1 (a shrink factor)"),
    Optional("upscale_tolerance", default=DEFAULT_TOLERANCE): TOLERANCE,
    Optional("downscale_tolerance", default=DEFAULT_TOLERANCE): TOLERANCE,
    Optional("scale_to_zero_after", default=format_duration(DEFAULT_SCALE_TO_ZERO_AFTER)):
        period(positive=True),
})

PYTHON = All(a_map, {
    Required("inference"): non_empty_string,
    Optional("server_side_batching"): BATCHING,
})
ONNX = All(a_map, {
    Required("model"): non_empty_string,
    Optional("request_handler"): non_empty_string,
    Optional("server_side_batching"): BATCHING,
})
TENSORFLOW = All(a_map, {
    Required("model"): non_empty_string,
    Optional("signature_key"): non_empty_string,
    Optional("request_handler"): non_empty_string,
    Optional("server_side_batching"): BATCHING,
})
API = Schema({
    Required("kind"): "api",
    Required("name"): api_name,
    Optional("image"): image,
    Optional("python"): PYTHON,
    Optional("onnx"): ONNX,
    Optional("tensorflow"): TENSORFLOW,
    Optional("tracker"): TRACKER,
    Required("compute"): COMPUTE,  # absent or null maps are made {} before validation
    Required("metadata"): metadata_map,
})

DEPLOYMENT = Schema({
    Required("kind"): "deployment",
    Optional("name"): deployment_name,
    Optional("image"): image,  # the APIs' project image, unless an API names its own
})

# Keys each map accepts, for "unknown key" hints.
KNOWN_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("api",): ("kind", "name", "image", "python", "onnx", "tensorflow", "tracker", "compute",
               "metadata"),
    ("api", "python"): ("inference", "server_side_batching"),
    ("api", "python", "server_side_batching"): ("max_batch_size", "batch_interval"),
    ("api", "onnx"): ("model", "request_handler", "server_side_batching"),
    ("api", "onnx", "server_side_batching"): ("max_batch_size", "batch_interval"),
    ("api", "tensorflow"): ("model", "signature_key", "request_handler", "server_side_batching"),
    ("api", "tensorflow", "server_side_batching"): ("max_batch_size", "batch_interval"),
    ("api", "tracker"): ("model_type", "key"),
    ("api", "compute"): (
        "min_replicas", "max_replicas", "init_replicas", "target_cpu_utilization", "cpu", "gpu",
        "mem", "threads_per_replica", "queue_size", "max_body_size", "max_concurrency",
        "autoscale_on",
        "target_in_flight", "window", "upscale_stabilization", "downscale_stabilization",
        "max_upscale_factor", "max_downscale_factor", "upscale_tolerance", "downscale_tolerance",
        "scale_to_zero_after",
    ),
    ("deployment",): ("kind", "name", "image"),
}

# Keys of the original platform's later versions: a one-line way to migrate instead of a bare
# "unknown key". Keyed like KNOWN_KEYS plus the key itself.
MIGRATION_HINTS: dict[tuple[str, ...], str] = {
    ("api", "predictor"): "is the original platform's later spelling: write "
    "'python: {inference: PATH}' (or 'onnx:' / 'tensorflow:' with 'model: PATH') and move "
    "predictor.metadata to the API's 'metadata'",
    ("deployment", "python_root"): "is not needed: delete it (the inference file's folder is "
    "already on sys.path)",
}
