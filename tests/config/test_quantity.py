"""The Kubernetes quantity grammar for cpu (Decimal cores) and memory sizes (int bytes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cortex_tui.config.model import format_cpu
from cortex_tui.config.quantity import QuantityError, format_bytes, parse_bytes, parse_cpu


@pytest.mark.parametrize(("value", "cores"), [
    ("200m", "0.2"), (0.5, "0.5"), ("0.5", "0.5"), ("500m", "0.5"), (1, "1"), ("1", "1"),
    (2.25, "2.25"), ("1.5", "1.5"), ("1e3", "1000"), ("1E3", "1000"), ("1e-3", "0.001"),
    ("+1", "1"), (".5", "0.5"), ("5.", "5"), ("1k", "1000"), ("1Ki", "1024"),
    ("2000000u", "2"), ("1500000000n", "1.5"),
    # Kubernetes keeps cpu to the millicore, rounding up.
    ("1u", "0.001"), ("0.0001", "0.001"), ("1.0001", "1.001"),
    # Exponents: signed, leading zeros, and far below a millicore (still > 0, so 1m).
    ("1e+3", "1000"), ("1e0003", "1000"), ("5E-1", "0.5"), ("1e-0", "1"), ("1e-31", "0.001"),
    ("1e-" + "9" * 5000, "0.001"),
])
def test_cpu_values(value: object, cores: str) -> None:
    assert parse_cpu(value) == Decimal(cores)


def test_half_a_core_equals_500m() -> None:
    assert parse_cpu(0.5) == parse_cpu("500m") == parse_cpu("0.5")
    assert format_cpu(parse_cpu(0.5)) == "500m"


@pytest.mark.parametrize(("value", "size"), [
    ("1Gi", 2**30), ("500M", 500_000_000), (1073741824, 2**30), ("1.5Gi", 3 * 2**29),
    ("128Mi", 128 * 2**20), ("1Ki", 1024), ("1k", 1000), ("1e9", 10**9), ("2E", 2 * 10**18),
    ("1Ei", 2**60), ("1T", 10**12), ("1Pi", 2**50), ("3", 3),
    # A fractional number of bytes rounds up, like Kubernetes.
    ("0.5", 1), ("1500m", 2), ("1001m", 2), (1.2, 2),
])
def test_memory_values(value: object, size: int) -> None:
    assert parse_bytes(value) == size


NOT_A_QUANTITY = [
    "1GB", "1gi", "", "1 Gi", " 1", "1e", "1.2.3", "e3", "0x10", "1Mi2", "inf", "nan", True,
    None, [1], "1K", "1e1.5", "1\n", "1m ", "1_000",
    "\u0661", "1e\u0663", "\uff11",  # Arabic-Indic and full-width digits: Python's int() reads them

]


@pytest.mark.parametrize(("value", "fragment"), [
    (0, "greater than 0"), ("0", "greater than 0"), ("0Gi", "greater than 0"),
    ("-1", "greater than 0"), ("-500m", "greater than 0"), (-0.5, "greater than 0"),
    *((value, "Kubernetes quantity") for value in NOT_A_QUANTITY),
    (float("inf"), "finite"), (float("nan"), "finite"),
    ("1e999", "too large"), ("1e" + "9" * 5000, "too large"), ("0e999", "greater than 0"),
    ("-1e999", "greater than 0"), ("9" * 40, "too large"), (2**70, "too large"),
    ("10E", "too large"),
])
def test_rejected(value: object, fragment: str) -> None:
    for parse in (parse_cpu, parse_bytes):
        with pytest.raises(QuantityError) as caught:
            parse(value)
        assert fragment in str(caught.value)


@pytest.mark.parametrize(("size", "text"), [
    (2**30, "1Gi"), (500_000_000, "500M"), (1234, "1234"), (1024, "1Ki"), (3 * 2**29, "1536Mi"),
])
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text
    assert parse_bytes(text) == size
