"""Install a project's requirements.txt before importing its inference file (in containers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from predictor.loader import InitFailure
from predictor.logs import log

REQUIREMENTS = "requirements.txt"


def install_requirements(root: Path) -> None:
    """`pip install -r requirements.txt` when the project has one; InitFailure when it fails."""
    path = root / REQUIREMENTS
    if not path.is_file():
        return
    log.info("installing %s", REQUIREMENTS)
    cmd = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
           "--no-input", "-r", str(path)]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(("Successfully installed", "Requirement already satisfied")):
            log.info("pip: %s", line)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        reason = errors[-1] if errors else f"exit status {done.returncode}"
        raise InitFailure(f"{REQUIREMENTS}: pip install failed: {reason.strip()}")
