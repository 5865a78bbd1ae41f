"""Fuzz `validate` with many mutated projects (tests/helpers/fuzz.py) and report each distinct
crash; CI runs a short fixed-seed run (tests/config/test_fuzz.py).

    .venv/bin/python bench/fuzz_validate.py [--count 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import fuzz


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    crashes = fuzz.run(args.seed, args.count)
    took = time.perf_counter() - start
    print(f"{args.count} mutated projects (seed {args.seed}) in {took:.1f} s "
          f"({1e3 * took / args.count:.1f} ms each): {len(crashes)} crashed; load average "
          f"{Path('/proc/loadavg').read_text().split()[:3]}")
    seen: set[str] = set()
    for case, trace in crashes:
        last = trace.strip().splitlines()[-1]
        if last not in seen:
            seen.add(last)
            print(f"--- case {case.seed}: {last}\n{case.config[:1000]!r}\n{trace}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
