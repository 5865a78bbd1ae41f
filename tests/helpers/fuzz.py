"""Mutated projects for fuzzing `validate`: the examples' cortex.yaml and inference.py with
random edits that reach YAML's and Python's corners (tags, anchors, merges, huge and odd
numbers, control characters, broken indentation). Deterministic for a seed.

Used by tests/config/test_fuzz.py (a bounded run CI makes with a fixed seed) and
bench/fuzz_validate.py (any count and seed).
"""

from __future__ import annotations

import json
import random
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cortex_tui.cli.validate import strict_json
from cortex_tui.config import validate_project

REPO = Path(__file__).resolve().parents[2]
SEEDS = [REPO / "examples" / name for name in ("iris", "housing")]

TOKENS = [
    "!!bool maybe", '!!int ""', "!!float x", "!!str", "!!binary AAAA", "!!timestamp 2020-13-45",
    "!!python/object:os.system", "!!set {a}", "!!omap [a: 1]", "&a", "*a", "*missing", "<<: *a",
    "<<: [1]", "? [a]", "{", "}", "[", "]", ":", ": :", "- ", "---", "...", "|", ">-", "#",
    ".nan", ".inf", "-.inf", "~", "null", "yes", "0o17", "0x" + "f" * 5000, "0b" + "1" * 15000,
    "1e999", "-0", "1_000", "9" * 5000, "'", '"', '"\\x00"', "\t", "\x1b[2J", "\x00", "\ufeff",
    "\u2028", "é", "🙂", " " * 40, "{.nan: 1}", "[{.inf: 2}]", "{? [x]: 1}", "&b [*b]",
    "cpu: 1e400", "mem: 1e20Ei", "gpu: -1", "min_replicas: 0", "max_replicas: 99999999999",
    "init_replicas: 3", "target_cpu_utilization: 0", "model_type: regression", "key: ''",
    "inference: ../x.py", "inference: /etc/passwd", "inference: a\\b.py", "kind: deployment",
    "name: UPPER", "name: " + "a" * 300, "threads_per_replica: 0", "max_body_size: 1Ki",
]
PY_TOKENS = ["def predict(sample, metadata, *a, **k):", "def init(x=1):", "async def predict(",
             "\x00", "(" * 200, "from x import *", "predict = 1", "lambda", "\t", "\ufeff",
             "# -*- coding: latin-1 -*-", "\xff\xfe", "class predict: pass", "if True:"]


@dataclass(frozen=True)
class Case:
    seed: int
    config: str
    inference: str


def _mutate(text: str, tokens: list[str], rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(7)
        if op == 0:  # replace a value
            key, _, _ = lines[i].partition(":")
            lines[i] = f"{key}: {rng.choice(tokens)}"
        elif op == 1:  # insert a token somewhere in a line
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(tokens) + lines[i][at:]
        elif op == 2:  # duplicate a line
            lines.insert(i, lines[i])
        elif op == 3:  # delete a line
            del lines[i]
            lines = lines or [""]
        elif op == 4:  # re-indent
            lines[i] = " " * rng.randint(0, 9) + lines[i].lstrip()
        elif op == 5:  # a new line of its own
            lines.insert(i, " " * rng.choice((0, 2, 4, 6)) + rng.choice(tokens))
        else:  # cut the file short
            lines = lines[: i + 1]
    return "\n".join(lines)


def cases(seed: int, count: int) -> Iterator[Case]:
    rng = random.Random(seed)
    sources = [((p / "cortex.yaml").read_text(), (p / "inference.py").read_text())
               for p in SEEDS]
    for n in range(count):
        config, inference = rng.choice(sources)
        config = _mutate(config, TOKENS, rng)
        if rng.random() < 0.1:
            inference = _mutate(inference, PY_TOKENS, rng)
        yield Case(seed * 1_000_003 + n, config, inference)


def crash_of(case: Case, root: Path) -> str | None:
    """The traceback `validate -o json` would print for `case`, or None: validated in the
    project folder `root` (files rewritten), then the JSON document built and encoded."""
    (root / "cortex.yaml").write_text(case.config, encoding="utf-8", errors="surrogatepass")
    (root / "inference.py").write_text(case.inference, encoding="utf-8",
                                       errors="surrogatepass")
    try:
        project, problems = validate_project(root)
        apis = project.apis if project is not None else ()
        document = {"valid": project is not None, "errors": [p.to_dict() for p in problems],
                    "apis": [spec.to_dict() for spec in apis]}
        json.dumps(strict_json(document), allow_nan=False)
        [str(p) for p in problems]  # the text output
    except Exception:
        return traceback.format_exc()
    return None


def run(seed: int, count: int) -> list[tuple[Case, str]]:
    """Every crashing case of a run, with its traceback."""
    crashes = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "iris.csv").write_text("5.1,3.5,1.4,0.2,setosa\n")
        for case in cases(seed, count):
            if (trace := crash_of(case, root)) is not None:
                crashes.append((case, trace))
    return crashes
