"""Kubernetes quantities as the API server stores them (canonical form)."""

from __future__ import annotations

import re
from decimal import Decimal

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
            "P": Decimal(10**15), "E": Decimal(10**18)}
_PATTERN = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def parse(text: str | int | float) -> tuple[Decimal, bool]:
    """(value, written with a binary suffix?); ValueError when not a quantity."""
    m = _PATTERN.match(str(text).strip())
    if not m:
        raise ValueError(f"quantities must match the regular expression {_PATTERN.pattern!r}")
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix], True
    return number * _DECIMAL[suffix], False


def canonical(text: str | int | float) -> str:
    value, binary = parse(text)
    if value != value.to_integral_value():
        millis = (value * 1000).to_integral_value(rounding="ROUND_CEILING")
        return f"{millis}m"
    whole = int(value)
    if binary and whole:
        for suffix, size in reversed(_BINARY.items()):
            if whole % size == 0:
                return f"{whole // size}{suffix}"
    if whole:
        for suffix in ("E", "P", "T", "G", "M", "k"):
            size = int(_DECIMAL[suffix])
            if whole % size == 0:
                return f"{whole // size}{suffix}"
    return str(whole)
