"""A bounded fuzz run of `validate` with a fixed seed (CI runs it): mutated copies of the
examples must each give problems or a project, never a traceback. A longer run, any seed:
`.venv/bin/python bench/fuzz_validate.py --count 20000 --seed 7`."""

from __future__ import annotations

from tests.helpers import fuzz

SEED = 13
COUNT = 1000  # about 5 s on a quiet core


def test_a_thousand_mutated_projects_validate_without_a_traceback() -> None:
    crashes = fuzz.run(SEED, COUNT)
    if crashes:
        case, trace = crashes[0]
        raise AssertionError(
            f"{len(crashes)} of {COUNT} mutated projects crashed validate; the first "
            f"(case {case.seed}):\ncortex.yaml: {case.config[:2000]!r}\n"
            f"inference.py: {case.inference[:500]!r}\n{trace}")
