"""How long `validate_text` takes (the TUI editor runs it on every edit), against plain
`yaml.safe_load` of the same text measured in the same run; and how its time grows with the
number of problems (2k vs 20k: a ratio near 1 per problem is linear, 10 would be quadratic).

    .venv/bin/python bench/config_validate.py
"""

from __future__ import annotations

import tempfile
import time
import timeit
from pathlib import Path

import yaml

from cortex_tui.config import validate_project, validate_text

IRIS = Path(__file__).resolve().parents[1] / "examples" / "iris"


def measure(text: str, repeat: int) -> tuple[float, float]:
    ours = min(timeit.repeat(lambda: validate_text(text, IRIS), number=repeat, repeat=3)) / repeat
    plain = min(timeit.repeat(lambda: yaml.safe_load(text), number=repeat, repeat=3)) / repeat
    return ours, plain


def main() -> None:
    one = (IRIS / "cortex.yaml").read_text()
    many = "".join(one.replace("iris-classifier", f"api-{i}") for i in range(200))
    print(f"{'file':<22}{'lines':>7}{'validate_text':>16}{'yaml.safe_load':>16}{'ratio':>8}")
    for label, text, repeat in (("examples/iris", one, 200), ("200 APIs", many, 3)):
        ours, plain = measure(text, repeat)
        lines = len(text.splitlines())
        print(f"{label:<22}{lines:>7}{ours * 1e3:>13.2f} ms{plain * 1e3:>13.2f} ms"
              f"{ours / plain:>8.2f}")


HEAD = "- kind: api\n  name: m\n  python:\n    inference: inference.py\n"


def problems_case(kind: str, n: int) -> tuple[str, str]:
    """cortex.yaml and inference.py text with about `n` problems of one kind."""
    if kind == "unknown keys":
        return HEAD + "".join(f"  unknown_{i}: 1\n" for i in range(n)), \
            "def predict(sample, metadata):\n    return 1\n"
    kwargs = ", ".join(f"k{i}=1" for i in range(n // 2))  # two problems each
    return HEAD, f"def predict(sample, metadata, *, {kwargs}):\n    return 1\n"


def scaling() -> None:
    print(f"\n{'problems':<16}{'2k':>10}{'20k':>10}{'per-problem ratio':>20}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("unknown keys", "keyword defaults"):
            times = []
            for n in (2000, 20000):
                root = Path(tmp) / f"{kind}-{n}".replace(" ", "-")
                root.mkdir()
                config, source = problems_case(kind, n)
                (root / "cortex.yaml").write_text(config)
                (root / "inference.py").write_text(source)
                start = time.perf_counter()
                validate_project(root)
                times.append(time.perf_counter() - start)
            print(f"{kind:<16}{times[0]:>9.2f}s{times[1]:>9.2f}s{times[1] / times[0] / 10:>20.2f}")


if __name__ == "__main__":
    main()
    scaling()
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
