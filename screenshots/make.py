"""Regenerate screenshots/*.svg (and *.png where rsvg-convert exists) for every TUI screen.

    .venv/bin/python screenshots/make.py

Uses the same scenes and fake backend as tests/tui/test_snapshots.py, so the pictures are
deterministic. rsvg-convert (Debian librsvg2-bin, with fonts-firacode) keeps leading spaces only
when the root <svg> has xml:space="preserve".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from textual._doc import take_svg_screenshot  # noqa: E402 - same renderer as the snapshots

from tests.tui.scenes import SCENES, SIZE  # noqa: E402


def preserve_spaces(svg: str) -> str:
    return svg.replace("<svg ", '<svg xml:space="preserve" ', 1)


def main() -> int:
    converter = shutil.which("rsvg-convert")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "examples" / "iris", Path(tmp) / "iris")
        os.environ["CORTEX_TUI_HOME"] = str(Path(tmp) / "home")
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            for scene in SCENES:
                svg = take_svg_screenshot(app=scene.app(), terminal_size=SIZE,
                                          run_before=scene.steps)
                svg_path = HERE / f"{scene.name}.svg"
                svg_path.write_text(preserve_spaces(svg), encoding="utf-8")
                if converter:
                    png = svg_path.with_suffix(".png")
                    subprocess.run([converter, str(svg_path), "-o", str(png)], check=True)
                print(f"{svg_path.relative_to(ROOT)}  {scene.title}")
        finally:
            os.chdir(cwd)
    if not converter:
        print("rsvg-convert not found: SVG only (apt-get install librsvg2-bin fonts-firacode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
