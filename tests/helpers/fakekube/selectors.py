"""Label selectors (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and field selectors."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.fakekube.resources import bad_request

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([\w./-]+)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _requirement_holds(labels: dict[str, str], requirement: str) -> bool:
    if m := _SET.match(requirement):
        key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
        present = key in labels and labels[key] in values
        return present if op == "in" else not present
    if m := _EQ.match(requirement):
        key, op, value = m.groups()
        equal = labels.get(key) == value
        return not equal if op == "!=" else equal
    if m := _EXISTS.match(requirement):
        negated, key = m.groups()
        return (key in labels) != bool(negated)
    raise bad_request(f"unable to parse requirement: {requirement!r}")


def matches_labels(obj: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(_requirement_holds(labels, r) for r in _split(selector))


def selector_from_match_labels(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in match_labels.items())


def _field(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def matches_fields(obj: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    for requirement in _split(selector):
        m = _EQ.match(requirement)
        if not m:
            raise bad_request(f"invalid field selector: {requirement!r}")
        path, op, value = m.groups()
        equal = _field(obj, path) == value
        if equal == (op == "!="):
            return False
    return True
