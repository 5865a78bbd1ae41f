"""Kubernetes quantities ("200m", "0.5", "1Gi", "1e3", 512) for `cpu`, `mem` and sizes.

The grammar is Kubernetes' own: a signed decimal number, then a binary suffix (Ki..Ei), a
decimal suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e3, E-2).
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any

# [0-9], not \d: \d also takes other scripts' digits (Arabic-Indic...), which Kubernetes refuses.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE]?)"
)
_MULTIPLIERS: dict[str, Decimal] = {
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30),
    "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60),
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
# Kubernetes stores quantities in an int64 of their smallest unit; nothing sane is larger.
_MAX = Decimal(2**63 - 1)
_MAX_EXPONENT = 30  # far beyond _MAX either way, keeps Decimal arithmetic small
_TINY = Decimal(10) ** -_MAX_EXPONENT


class QuantityError(ValueError):
    """A value that is not a usable quantity; the message says why in plain words."""


def describe(value: Any) -> str:
    """A user's value as shown in messages: strings quoted, YAML words for the rest."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)  # quoted, newlines and controls escaped
    if isinstance(value, int):
        text = str(value) if value.bit_length() < 200 else "a very large number"
        return text
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def parse_quantity(value: Any, example: str) -> Decimal:
    """The positive amount a quantity denotes, or QuantityError (`example` goes in the hint)."""
    got = describe(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"must be a Kubernetes quantity such as {example} (got {got})")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(f"must be a finite quantity (got {got})")
        amount = Decimal(repr(value))
    elif isinstance(value, int):
        if value.bit_length() > 64:
            raise QuantityError(f"is too large (got {got})")
        amount = Decimal(value)
    else:
        amount = _parse_text(value, example)
    if amount <= 0:
        raise QuantityError(f"must be greater than 0 (got {got})")
    if amount > _MAX:
        raise QuantityError(f"is too large (got {got})")
    return amount


def _parse_text(text: str, example: str) -> Decimal:
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise QuantityError(
            f"must be a Kubernetes quantity such as {example} (got {describe(text)})"
        )
    number, suffix = Decimal(match.group("number")), match.group("suffix")
    with localcontext() as ctx:
        ctx.prec = 80
        if suffix in _MULTIPLIERS:
            return number * _MULTIPLIERS[suffix]
        # A decimal exponent: "e3", "E-2". Its digits may be many ("1e99999...").
        digits = suffix[1:].lstrip("+-").lstrip("0") or "0"
        exponent = int(digits) if len(digits) <= 3 else _MAX_EXPONENT + 1
        if number <= 0 or exponent <= _MAX_EXPONENT:
            return number.scaleb(-exponent if "-" in suffix else exponent)
        if "-" not in suffix:
            raise QuantityError(f"is too large (got {describe(text)})")
        return _TINY  # positive but below any unit: rounds up to 1m of cpu or 1 byte


def parse_cpu(value: Any) -> Decimal:
    """CPU cores, rounded up to whole millicores as Kubernetes does ("1u" is "1m")."""
    cores = parse_quantity(value, '"200m", "0.5" or 2')
    millis = (cores * 1000).to_integral_value(rounding=ROUND_CEILING)
    return Decimal(int(millis)) / Decimal(1000)


def parse_bytes(value: Any) -> int:
    """A memory quantity in whole bytes; a fractional byte count rounds up like Kubernetes."""
    amount = parse_quantity(value, '"1Gi", "500M" or 1073741824')
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def format_bytes(size: int) -> str:
    """Shortest exact Kubernetes form of a byte count: "1Gi", "500M", "1234"."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_MULTIPLIERS[suffix])
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    for suffix in ("E", "P", "T", "G", "M", "k"):
        unit = int(_MULTIPLIERS[suffix])
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>us|ms|s|m|h)")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_DURATION = 7 * 24 * 3600.0  # a week: longer is a mistake, not a setting


def parse_duration(value: Any) -> float:
    """Seconds of a duration as cortex.yaml writes them: "250us", "10ms", "1.5s", "5m", "1h".
    Callers check their own bounds (and may word the examples for their key)."""
    got = describe(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise QuantityError(f'must be a duration such as "500ms", "10s", "5m" or "1h" (got {got})')
    seconds = float(match.group("number")) * _SECONDS[match.group("unit")]
    if seconds > MAX_DURATION:
        raise QuantityError(f"must be at most a week (got {got})")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest form of a duration: 300.0 -> "5m", 90.0 -> "90s", 1.5 -> "1.5s",
    0.01 -> "10ms", 0.00025 -> "250us"."""
    if seconds <= 0:
        return "0s"
    for unit, scale in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        value = round(seconds / scale, 6)
        if unit in ("h", "m") and (seconds < scale or value != int(value)):
            continue
        if seconds >= scale or unit == "us":
            return f"{value:g}{unit}"
    raise AssertionError("unreachable")
