"""`python -m predictor.requirements` (the `install-requirements` init container): real pip,
offline (local wheels and an in-tree build backend), the packages reached through PYTHONPATH
by a real replica, and pip's real error in the termination message."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.helpers.predictor_process import Predictor, request


def _wheel(folder: Path, name: str, module_text: str) -> Path:
    """A minimal pure-Python wheel, built by hand (no build tool, no index)."""
    files = {
        f"{name}/__init__.py": module_text,
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    files[f"{name}-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def _install(requirements: Path, target: Path, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "predictor.requirements", str(requirements), "--target",
         str(target), "--termination-log", str(log)],
        capture_output=True, text=True, timeout=120,
    )


def test_requirements_go_to_the_target_folder_and_the_replica_imports_them(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    root = project("import tinymodel\n\ndef predict(sample, metadata):\n"
                   "    return tinymodel.VALUE\n")
    (root / "wheels").mkdir()
    _wheel(root / "wheels", "tinymodel", "VALUE = 42\n")
    (root / "requirements.txt").write_text("./wheels/tinymodel-1.0-py3-none-any.whl\n")
    packages, log = tmp_path / "packages", tmp_path / "termination-log"

    done = _install(root / "requirements.txt", packages, log)

    assert done.returncode == 0, done.stderr
    assert (packages / "tinymodel" / "__init__.py").is_file()
    assert not log.exists()
    # Not in this interpreter's environment: only through PYTHONPATH, as in the pod.
    replica = start_predictor(root, env={"PYTHONPATH": str(packages)}).wait_ready()
    assert replica.port is not None
    assert request(replica.port, "POST", "/predict", "{}").json() == 42


BROKEN_BACKEND = '''
def get_requires_for_build_wheel(config_settings=None):
    raise RuntimeError("this package needs CUDA 12 to build")

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("unreachable")
'''


def test_a_failed_build_reports_the_requirement_and_its_exception_not_pips_boilerplate(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "broken"\nversion = "1.0"\n')
    (broken / "backend.py").write_text(BROKEN_BACKEND)
    (tmp_path / "requirements.txt").write_text("./broken\n")
    log = tmp_path / "termination-log"

    done = _install(tmp_path / "requirements.txt", tmp_path / "packages", log)

    assert done.returncode == 1
    message = log.read_text().strip()
    assert "\n" not in message  # `get` shows the termination message's last line
    assert message.startswith("requirements.txt: pip install failed: ")
    assert "broken" in message
    assert "RuntimeError: this package needs CUDA 12 to build" in message
    assert "note: This error originates" not in message


def test_an_invalid_line_reports_pips_error_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\nthis is not === a requirement\n")
    log = tmp_path / "termination-log"

    done = _install(tmp_path / "requirements.txt", tmp_path / "packages", log)

    assert done.returncode == 1
    message = log.read_text().strip()
    assert message.startswith("requirements.txt: pip install failed: ERROR: Invalid requirement")
    assert "this is not === a requirement" in message
