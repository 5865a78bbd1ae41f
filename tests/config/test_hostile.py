"""cortex.yaml written to break the validator: odd tags, huge numbers, NaN keys, thousands of
problems. Each is a positioned problem, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cortex_tui.config import validate_project, validate_text
from cortex_tui.config.loader import MAX_PROBLEMS
from tests.config.test_cli_validate import validate

HEAD = "- kind: api\n  name: m\n  python:\n    inference: inference.py\n  metadata:\n"


def test_values_pyyaml_cannot_construct_are_positioned_problems(
        make_project: Callable[..., Path]) -> None:
    root = make_project(HEAD + "\n".join([
        "    a: !!bool maybe",
        '    b: !!int ""',
        "    c: 0x" + "f" * 4400,
        "    d: 0b" + "1" * 14400,
        "    e: {x: {.nan: 1}}",
        "    f: [{-.inf: 2}]",
    ]) + "\n")
    result = validate("-p", str(root), "-o", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    errors = [(e["line"], e["column"], e["path"], e["message"])
              for e in json.loads(result.stdout)["errors"]]
    assert errors == [
        (6, 8, "metadata.a", 'cannot read this value as !!bool (got "maybe")'),
        (7, 8, "metadata.b", 'cannot read this value as !!int (got "")'),
        (8, 8, "metadata.c", "this number has too many digits"),
        (9, 8, "metadata.d", "this number has too many digits"),
        (10, 13, "metadata.e.x.nan", "keys must be strings (got nan)"),
        (11, 10, "metadata.f[0].-inf", "keys must be strings (got -inf)"),
    ]


def test_thousands_of_problems_list_the_first_ones_then_a_count(
        make_project: Callable[..., Path]) -> None:
    keys = "".join(f"  unknown_{i}: 1\n" for i in range(1000))
    kwargs = ", ".join(f"k{i}=1" for i in range(300))  # 2 problems each
    root = make_project(HEAD.replace("  metadata:\n", "") + keys,
                        {"inference.py": f"def predict(sample, metadata, *, {kwargs}):\n  1\n"})
    _, problems = validate_project(root)
    assert len(problems) == MAX_PROBLEMS + 1
    assert str(problems[-1]) == f"cortex.yaml:{5 + MAX_PROBLEMS}:3: and 1400 more problems " \
                                "(not listed)"
    result = validate("-p", str(root))
    assert result.stderr.splitlines()[-1] == "1600 problems found"
    assert len(result.stderr.splitlines()) == MAX_PROBLEMS + 2


def test_a_valid_file_is_not_capped(make_project: Callable[..., Path]) -> None:
    text = HEAD.replace("  metadata:\n", "") + "  compute:\n    cpu: 1\n"
    project, problems = validate_text(text, make_project(text))
    assert project is not None and problems == []
