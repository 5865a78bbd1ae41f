"""Per-project virtual environments for `requirements.txt` on the local target.

As a pod installs a project's requirements before its predictor starts, the operator builds a
virtual environment for each distinct `requirements.txt` (keyed by the file's hash), once, in
the background, and starts the replicas with its interpreter. The environment sees the
operator's own packages after its own (a `.pth` file), so the predictor's dependencies are
there and a requirement already satisfied costs no download.
"""

from __future__ import annotations

import hashlib
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

REQUIREMENTS = "requirements.txt"
READY_MARK = ".ready"
PIP_TIMEOUT_S = 1800.0


def requirements_key(project: Path) -> str | None:
    """The hash naming the project's environment; None when it has no requirements to install
    (no requirements.txt, or one with only blank lines and comments)."""
    path = project / REQUIREMENTS
    try:
        text = path.read_bytes()
    except OSError:
        return None
    meaningful = [line for line in text.decode("utf-8", "replace").splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return hashlib.sha256(text).hexdigest()[:16] if meaningful else None


def pip_error(stderr: str, returncode: int) -> str:
    """pip's own reason: its last `ERROR:` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [f"exit status {returncode}"])[-1]


class Environments:
    """The environments under `root` (one folder per key), built by background threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._building: set[str] = set()
        self._failed: dict[str, str] = {}

    def python(self, key: str) -> Path | None:
        """The interpreter of a built environment, else None."""
        folder = self.root / key
        return folder / "bin" / "python" if (folder / READY_MARK).exists() else None

    def failure(self, key: str) -> str | None:
        with self._lock:
            return self._failed.get(key)

    def forget_failure(self, key: str) -> None:
        """A redeploy tries a failed install again (the index may be back, a typo fixed)."""
        with self._lock:
            self._failed.pop(key, None)

    def building(self, key: str) -> bool:
        with self._lock:
            return key in self._building

    def prune(self, keep: set[str]) -> None:
        """Remove the environments (and pip logs) of requirements no deployed version uses."""
        if not self.root.is_dir():
            return
        with self._lock:
            keep = keep | self._building
            for key in [k for k in self._failed if k not in keep]:
                del self._failed[key]
        for path in self.root.iterdir():
            if path.name.split(".")[0] in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def start(self, key: str, requirements: Path) -> None:
        """Build the environment for `key` in the background (once at a time per key)."""
        with self._lock:
            if key in self._building or key in self._failed:
                return
            self._building.add(key)
        threading.Thread(target=self._build, args=(key, requirements), daemon=True,
                         name=f"requirements-{key}").start()

    def _build(self, key: str, requirements: Path) -> None:
        try:
            error = self._install(key, requirements)
        except (OSError, subprocess.SubprocessError) as exc:
            error = f"cannot build the environment: {exc}"
        with self._lock:
            self._building.discard(key)
            if error is not None:
                self._failed[key] = error

    def _install(self, key: str, requirements: Path) -> str | None:
        folder = self.root / key
        shutil.rmtree(folder, ignore_errors=True)  # a build cut short by an operator restart
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)],
                       check=True, capture_output=True, timeout=120)
        _see_operator_packages(folder)
        python = folder / "bin" / "python"
        with open(self.root / f"{key}.log", "w", encoding="utf-8") as log:
            done = subprocess.run(
                [str(python), "-m", "pip", "install",
                 "--disable-pip-version-check", "--no-input", "-r", requirements.name],
                cwd=requirements.parent, stdout=log, stderr=subprocess.PIPE, text=True,
                timeout=PIP_TIMEOUT_S, stdin=subprocess.DEVNULL,
            )
            log.write(done.stderr)
        if done.returncode != 0:
            return f"{REQUIREMENTS}: pip install failed: {pip_error(done.stderr, done.returncode)}"
        (folder / READY_MARK).touch()
        return None


def _see_operator_packages(folder: Path) -> None:
    """A `.pth` in the environment adding the operator's site folders after its own, so the
    predictor (sanic, prometheus-client, cortex-tui itself, even an editable install) imports
    and pip counts what is already there as satisfied."""
    own = sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)})
    dirs = [*site.getsitepackages(), sysconfig.get_path("purelib")]
    lines = [f"import site; site.addsitedir({d!r})" for d in dict.fromkeys(dirs)]
    Path(own).mkdir(parents=True, exist_ok=True)
    (Path(own) / "_cortex_tui_operator.pth").write_text("\n".join(lines) + "\n")
