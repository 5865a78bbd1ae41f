"""Helpers shared by the config tests: a base API entry and expected-problem records."""

from __future__ import annotations

from dataclasses import dataclass

# Lines 1-4 of every table case; extra lines start at line 5.
BASE = """\
- kind: api
  name: classifier
  python:
    inference: inference.py
"""


def api(extra: str = "") -> str:
    """The base API entry followed by `extra` (already indented as keys of the entry)."""
    return BASE + extra


@dataclass(frozen=True)
class Expect:
    """One expected problem: where, which key, and a fragment of its message."""

    line: int
    column: int
    path: str
    message: str
    api: str | None = "classifier"
    file: str = "cortex.yaml"
