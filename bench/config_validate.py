"""How long `validate_text` takes (the TUI editor runs it on every edit), against plain
`yaml.safe_load` of the same text measured in the same run.

    .venv/bin/python bench/config_validate.py
"""

from __future__ import annotations

import timeit
from pathlib import Path

import yaml

from cortex_tui.config import validate_text

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


if __name__ == "__main__":
    main()
