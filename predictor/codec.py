"""JSON in and out of the request path: orjson first, the standard library where orjson differs.

orjson is 3-5 x faster than `json` on small documents, but it reads only UTF-8 without a BOM,
writes NaN and Infinity as `null`, refuses numpy keys and integers over 64 bits. So:

* decode: orjson; when it refuses a body, the standard library decides (any UTF-8/16/32
  encoding, a BOM, lone surrogate escapes), so every body accepted before still is, and every
  refusal keeps its message. NaN / Infinity literals are refused (JSON has none). Integers
  beyond 64 bits arrive as floats (as with Sanic's default decoder).
* encode: orjson (numpy arrays and scalars natively); a failure, or any `null` in its output
  (where a NaN may hide), is redone by the standard library on a plain copy of the value, which
  raises on NaN and Infinity and turns numpy keys into strings.
* A body whose parsed objects would take more memory than a budget is refused before parsing
  (`TooLarge`): `[{},{},...]` costs about 25 x its size in Python objects.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
MAX_DEPTH = 1024  # orjson's nesting limit; the standard library's recursion stops near it too

# Worst-case bytes of Python objects per JSON token, measured on CPython 3.11 (64-bit): an
# empty dict is 64 bytes, a list slot 8, a short str 50, a float 24.
_PER_CONTAINER = 72
_PER_ELEMENT = 32
_PER_QUOTE = 28


class Malformed(ValueError):
    """Not a JSON document we accept: answer 400 with this message."""


class TooLarge(ValueError):
    """The parsed body would exceed the memory budget: answer 413 with this message."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_std_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if tolist is not None:
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_std_encode = json.JSONEncoder(default=_default, allow_nan=False, separators=(",", ":")).encode


def parsed_size(body: bytes) -> int:
    """An upper estimate of the memory the parsed body takes, in bytes (no parsing)."""
    containers = body.count(b"{") + body.count(b"[")
    return (len(body) + _PER_CONTAINER * containers + _PER_ELEMENT * (body.count(b",") + 1)
            + _PER_QUOTE * body.count(b'"'))


def check_size(body: bytes, budget: int) -> None:
    """Raise TooLarge when the parsed body could exceed `budget` bytes. Cheap for small
    bodies: none can expand past 100 x its size, so only larger ones are scanned."""
    if 100 * len(body) <= budget:
        return
    size = parsed_size(body)
    if size > budget:
        raise TooLarge(f"request body too large once parsed: about {size >> 20} MiB of "
                       f"objects, the limit is {budget >> 20} MiB")


def decode(body: bytes) -> Any:
    """The JSON value of a request body; Malformed (ValueError) when it is not one."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if not body:
            raise Malformed("malformed json: empty body") from None
        if "depth limit" in str(exc):
            raise Malformed(f"malformed json: nested more than {MAX_DEPTH} levels deep") from None
    try:
        return _std_decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise Malformed(f"malformed json: {exc}") from None
    except RecursionError:
        raise Malformed(f"malformed json: nested more than {MAX_DEPTH} levels deep") from None


def encode(value: Any) -> bytes:
    """JSON bytes of a prediction. Raises TypeError, ValueError (NaN, Infinity), RecursionError
    or what a `tolist()` raised, like `json.dumps(..., allow_nan=False)`."""
    try:
        out = orjson.dumps(value, _default, _OPTIONS)  # positional: faster
    except TypeError:  # numpy keys, a big int, a lone surrogate, too deep, or unserialisable
        return _std_encode(plain(value)).encode()
    if b"null" in out:  # None, or NaN / Infinity that orjson wrote as null
        return _std_encode(plain(value)).encode()
    return out


_KEY_TYPES = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """A copy whose dict keys the standard library accepts (numpy keys as Python values);
    numpy values inside are left to the encoder's `default`."""
    if isinstance(value, dict):
        return {_plain_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _plain_key(key: Any) -> Any:
    if isinstance(key, _KEY_TYPES):
        return key
    tolist = getattr(key, "tolist", None)  # a numpy scalar key: dict(zip(model.classes_, p))
    return tolist() if tolist is not None else key
