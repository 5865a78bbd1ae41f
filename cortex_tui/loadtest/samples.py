"""Samples a load test sends: one JSON value (the project's sample.json, the Predict tab's text)
or a file of JSON lines (one sample per line). Each is encoded once, before the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Where a project keeps its example request (the Predict tab starts from it too).
SAMPLE_FILES = ("sample.json", "samples/sample.json")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
MAX_SAMPLES_BYTES = 64 * 1024 * 1024
MAX_SAMPLES = 100_000


class SampleError(ValueError):
    """A sample file that cannot be used; the message names the file and line."""


def project_sample(root: Path) -> Path | None:
    for name in SAMPLE_FILES:
        if (root / name).is_file():
            return root / name
    return None


def encode(sample: Any) -> bytes:
    return json.dumps(sample, separators=(",", ":")).encode()


def parse_text(text: str, where: str = "sample") -> list[bytes]:
    """One JSON value (e.g. the Predict tab's text)."""
    try:
        return [encode(json.loads(text))]
    except json.JSONDecodeError as exc:
        raise SampleError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


def load_samples(path: Path) -> list[bytes]:
    """`*.jsonl` / `*.ndjson`: one sample per non-empty line; any other file: one JSON value."""
    try:
        if path.stat().st_size > MAX_SAMPLES_BYTES:
            raise SampleError(f"{path}: larger than {MAX_SAMPLES_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SampleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SampleError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if path.suffix.lower() not in JSON_LINES_SUFFIXES:
        try:
            return parse_text(text, str(path))
        except SampleError as exc:
            hint = "" if "Extra data" not in str(exc) else \
                " (several samples? write one per line in a .jsonl file)"
            raise SampleError(f"{exc}{hint}") from None
    return _json_lines(path, text)


def _json_lines(path: Path, text: str) -> list[bytes]:
    samples: list[bytes] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            samples.append(encode(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise SampleError(f"{path}:{number}: not JSON lines: line {number} is not one JSON "
                              f"value ({exc.msg} at column {exc.colno})") from None
        if len(samples) > MAX_SAMPLES:
            raise SampleError(f"{path}:{number}: more than {MAX_SAMPLES} samples")
    if not samples:
        raise SampleError(f"{path}: no samples (the file is empty)")
    return samples
