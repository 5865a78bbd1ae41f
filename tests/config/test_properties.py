"""Property tests: nothing a user types makes validation raise, and every position is real."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cortex_tui.config import validate_text
from cortex_tui.config.inference_check import check_source
from cortex_tui.config.model import Problem
from tests.config.conftest import EXAMPLES

# Deterministic and modest by default; CONFIG_FUZZ_EXAMPLES=5000 fuzzes harder, with a random seed.
FUZZ = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=FUZZ or 150, derandomize=not FUZZ, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROOT = EXAMPLES / "iris"
VALID_TEXTS = [(EXAMPLES / name / "cortex.yaml").read_text() for name in ("iris", "housing")]
KEYS = [
    "kind", "name", "python", "inference", "tracker", "model_type", "key", "compute",
    "min_replicas", "max_replicas", "init_replicas", "target_cpu_utilization", "cpu", "gpu",
    "mem", "threads_per_replica", "queue_size", "max_body_size", "metadata", "api",
    "deployment", "<<", "max_concurrency", "server_side_batching", "max_batch_size",
    "batch_interval",
]
YAML_BITS = [
    "- ", ": ", "\n", "  ", "\t", "&a ", "*a", "!!python/object ", "!x ", "{", "}", "[", "]",
    "? ", "---\n", "...", "'", '"', "#", "|\n", ">\n", "<<: *a", "\x00", "\ufeff", "1e3",
    "-1", "0.5", "~", "true", "9" * 50, "1Gi", "500m", "inference.py", "../x.py", "/abs.py",
    "10ms",
]


def check(text: str, root: Path = ROOT) -> list[Problem]:
    """Validate and check the invariants every result must hold."""
    project, problems = validate_text(text, root)
    assert (project is None) == bool(problems)
    for problem in problems:
        source = text if problem.file == "cortex.yaml" else (
            (root / problem.file).read_text(errors="replace")
        )
        lines = source.splitlines() or [""]
        assert 1 <= problem.line <= len(lines), (problem, len(lines))
        assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, problem
        assert problem.message and "Traceback" not in problem.message
        assert "\n" not in str(problem) and "\r" not in str(problem), problem  # one per line
        problem.to_dict()
    if project is not None:
        for spec in project.apis:
            spec.to_dict()
    return problems


@SETTINGS
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    check(text)


@SETTINGS
@given(st.lists(st.sampled_from(YAML_BITS + KEYS), max_size=40).map("".join))
def test_yaml_like_token_soup(text: str) -> None:
    check(text)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["api", "deployment", "inference.py", "classification", "regression",
                     "200m", "1Gi", "-1", "0", "0.5", "1e3", "label"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), scalars.filter(
            lambda v: not isinstance(v, float) or v == v)), inner, max_size=5),
    ),
    max_leaves=25,
)


@SETTINGS
@given(documents)
def test_arbitrary_yaml_documents(document: Any) -> None:
    check(yaml.safe_dump(document))


@SETTINGS
@given(st.lists(st.fixed_dictionaries(
    {"kind": st.sampled_from(["api", "deployment"])},
    optional={key: documents for key in [*KEYS[1:8], "compute", "metadata"]},
), max_size=3))
def test_arbitrary_entries(entries: list[dict[str, Any]]) -> None:
    check(yaml.safe_dump(entries))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID_TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace-line", "dup-line"]))
        if action == "insert":
            bit = draw(st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=5)))
            text = text[:position] + bit + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)):]
        else:
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            if action == "dup-line":
                lines.insert(index, lines[index])
            else:
                indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
                key = draw(st.sampled_from(KEYS))
                value = draw(st.sampled_from(YAML_BITS))
                lines[index] = f"{indent}{key}: {value}\n"
            text = "".join(lines)
    return text


@SETTINGS
@given(mutated())
def test_mutations_of_valid_configs(text: str) -> None:
    check(text)


@st.composite
def value_swaps(draw: st.DrawFn) -> tuple[str, tuple[Any, ...]]:
    """A valid example with one value replaced: the problem, if any, names that key."""
    data = yaml.safe_load(draw(st.sampled_from(VALID_TEXTS)))
    entry = draw(st.sampled_from([i for i, e in enumerate(data) if e["kind"] == "api"]))
    section = draw(st.sampled_from(["compute", "tracker"]))
    key = draw(st.sampled_from(sorted(data[entry][section])))
    data[entry][section][key] = draw(scalars)
    return yaml.safe_dump(data, sort_keys=False), (section, key)


@SETTINGS
@given(value_swaps())
def test_a_bad_value_is_reported_at_its_key(case: tuple[str, tuple[Any, ...]]) -> None:
    text, (section, key) = case
    problems = check(text)
    paths = {p.path for p in problems}
    # Changing one value can only break that value, or a replica rule involving it.
    allowed = {f"{section}.{key}", "compute.min_replicas", "compute.max_replicas",
               "compute.init_replicas"}
    assert paths <= allowed, problems


PY_BITS = [
    "def ", "async ", "predict", "init", "(", ")", ":", "sample", "metadata", ", ", "*", "**",
    "=None", "/", "\n", "    ", "pass", "return 1", "import x", "from x import predict",
    "class ", "if 1:\n", "\x00", "\xff", "lambda", "# -*- coding: latin-1 -*-\n", "'''",
]


@SETTINGS
@given(st.one_of(
    st.lists(st.sampled_from(PY_BITS), max_size=30).map("".join).map(str.encode),
    st.binary(max_size=200),
))
def test_any_inference_file(tmp_path: Path, source: bytes) -> None:
    lines = source.decode("utf-8", "replace").splitlines() or [""]
    for problem in check_source(source):
        assert problem.line >= 1, problem
        assert problem.message
    (tmp_path / "inference.py").write_bytes(source)  # tmp_path is shared by the examples
    _, problems = validate_text(
        "- kind: api\n  name: a\n  python:\n    inference: inference.py\n", tmp_path
    )
    for problem in problems:
        if problem.file == "inference.py":
            assert 1 <= problem.line <= len(lines), (problem, lines)
            assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, (problem, lines)

