"""The Kubernetes quantity grammar for cpu (Decimal cores) and memory sizes (int bytes)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- properties: the grammar, generated ----------------------------------------------------

SUFFIXES = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10**3,
    "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
digits = st.text("0123456789", min_size=1, max_size=6)
numbers = st.one_of(
    digits, st.builds("{}.{}".format, digits, digits), digits.map("{}.".format),
    digits.map(".{}".format),
)


@settings(max_examples=300, derandomize=True, database=None)
@given(st.sampled_from(["", "+"]), numbers, st.one_of(
    st.sampled_from(sorted(SUFFIXES)),
    st.builds("{}{}{}".format, st.sampled_from("eE"), st.sampled_from(["", "+", "-"]),
              st.integers(0, 12)),
))
def test_every_spelling_of_the_grammar_means_its_number(sign: str, number: str,
                                                       suffix: str) -> None:
    if suffix[:1] in ("e", "E") and suffix not in SUFFIXES:
        exponent = int(suffix[1:])
        expected = Decimal(number).scaleb(exponent)
    else:
        expected = Decimal(number) * Decimal(SUFFIXES[suffix])
    text = f"{sign}{number}{suffix}"
    if expected <= 0 or expected > 2**63 - 1:  # Kubernetes keeps quantities in an int64
        with pytest.raises(QuantityError, match="greater than 0" if expected <= 0 else "large"):
            parse_bytes(text)
        return
    assert parse_bytes(text) == int(expected.to_integral_value(rounding=ROUND_CEILING))
    millis = (expected * 1000).to_integral_value(rounding=ROUND_CEILING)
    assert parse_cpu(text) == millis / 1000


@settings(max_examples=300, derandomize=True, database=None)
@given(st.one_of(
    st.text(max_size=30),
    st.text("0123456789.+-eEinumkKMGTP ", max_size=30),
    # Exponents of up to 6000 digits: int() refuses more than 4300.
    st.builds("{}e{}{}".format, digits, st.sampled_from(["", "+", "-"]),
              st.integers(1, 6000).map(lambda n: "7" * n)),
    st.text("0123456789\u0660\u0661\u0969\uff11.eEkMi", max_size=8),  # other scripts' digits
))
def test_any_text_is_a_quantity_or_a_plain_refusal(text: str) -> None:
    # Never another exception: anything but QuantityError became a wrong message upstream.
    for parse in (parse_cpu, parse_bytes):
        try:
            assert parse(text) > 0
        except QuantityError as exc:
            assert str(exc)
        else:
            assert text.isascii(), "Kubernetes reads only ASCII digits and suffixes"
