"""The TUI on the fake backend with N moving APIs (used by bench/tui.sh inside tmux).

    python bench/tui_fake_app.py --apis 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cortex_tui.tui.app import CortexApp  # noqa: E402
from tests.helpers.fake_backend import FakeBackend  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apis", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    backend = FakeBackend(n_apis=args.apis, clock=time.time)
    with tempfile.TemporaryDirectory() as tmp:
        app = CortexApp(backend, config_path=Path(tmp) / "cortex.yaml",
                        refresh_interval=args.interval)
        app.run()
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
