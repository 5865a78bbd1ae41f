"""`python -m predictor.requirements FILE --target DIR`: pip install a project's requirements
into DIR (the Kubernetes init container `install-requirements`; the predictor then finds them
on PYTHONPATH). The image's own environment is never changed, so its root file system can be
read-only and every pod of a Deployment runs what its init container resolved.

When pip fails, the termination message (what `cortex-tui get` shows) is pip's real error in
one line: its `ERROR:` lines, the requirement it was working on and the last exception line of
a failed build, not its closing boilerplate ("note: This error originates from a subprocess").
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = "requirements.txt"
# "Collecting numpy==1.0 (from -r ...)", "Processing ./wheels/x.whl": what pip works on.
_WORKING_ON = re.compile(r"^\s*(?:Collecting|Processing|Obtaining)\s+(\S+)")
# The last line of a traceback pip relays from a build: "RuntimeError: boom".
_EXCEPTION = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):\s*(.*)$")
MESSAGE_LIMIT = 2000  # Kubernetes keeps at most 4096 bytes of a termination message


def pip_command(requirements: Path, target: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--target", str(target), "-r", str(requirements)]


def pip_error(stdout: str, stderr: str, returncode: int) -> str:
    """pip's real reason for failing, in one line (see the module docstring)."""
    errors = [line.strip() for line in stderr.splitlines() if line.startswith("ERROR:")]
    working = [m.group(1) for m in map(_WORKING_ON.match, stdout.splitlines()) if m]
    exceptions = [m.group(0).strip() for m in map(_EXCEPTION.match, stderr.splitlines()) if m]
    parts = list(errors)
    if exceptions and not any(exceptions[-1] in e for e in errors):
        parts.append(exceptions[-1])
    if working and not any(working[-1] in p for p in parts):
        parts.insert(0, f"while installing {working[-1]}")
    if not parts:  # nothing recognisable: the last line pip wrote
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        parts = lines[-1:] or [f"exit status {returncode}"]
    return "; ".join(parts)[:MESSAGE_LIMIT]


def install(requirements: Path, target: Path) -> str | None:
    """Install; None on success, else the one-line reason."""
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(pip_command(requirements, target), capture_output=True, text=True,
                          cwd=requirements.parent)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode == 0:
        return None
    reason = pip_error(done.stdout, done.stderr, done.returncode)
    return f"{REQUIREMENTS}: pip install failed: {reason}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m predictor.requirements",
                                     description="pip install a requirements file into a folder")
    parser.add_argument("requirements", type=Path)
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--termination-log", type=Path, default=Path("/dev/termination-log"),
                        help="where the one-line failure goes [/dev/termination-log]")
    args = parser.parse_args(argv)
    if not args.requirements.is_file():
        return 0  # nothing to install
    reason = install(args.requirements, args.target)
    if reason is None:
        return 0
    print(f"ERROR {reason}", file=sys.stderr)
    try:
        args.termination_log.write_text(reason + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"cannot write {args.termination_log}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
