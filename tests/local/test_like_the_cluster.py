"""The local target behaves as the same API does on Kubernetes, seen through the CLI."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from cortex_tui.local.replica import data_limit
from tests.local.conftest import Local, make_project, wait_for

MODEL = """
def predict(sample, metadata):
    if sample == "boom":
        raise ValueError("no such house")
    if sample == "spike":
        buffer = bytearray(200 << 20)  # briefly 200 MiB, freed at once
        return len(buffer)
    return sample["answer"]
"""
RAISE_LINE = 4


def test_predict_output_tracebacks_and_the_mem_limit_are_the_clusters(
    local: Local, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "project", MODEL, compute="mem: 150Mi\n")
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    local.wait_status("model", "live", available=1)
    samples = {"text": '{"answer": "26.9"}', "number": '{"answer": 26.9}', "boom": '"boom"',
               "spike": '"spike"'}
    for name, text in samples.items():
        (tmp_path / f"{name}.json").write_text(text)

    # A string keeps its quotes: "26.9" and 26.9 are different answers.
    assert local.cli("predict", "model", str(tmp_path / "text.json")).stdout == '"26.9"\n'
    assert local.cli("predict", "model", str(tmp_path / "number.json")).stdout == "26.9\n"

    failed = local.cli("predict", "model", str(tmp_path / "boom.json"))
    assert failed.returncode == 1 and "ValueError: no such house" in failed.stderr
    logs = local.cli("logs", "model").stdout
    # The traceback names the user's file, not the operator's snapshot copy of it.
    assert f"traceback: inference.py:{RAISE_LINE} in predict" in logs, logs
    assert "snapshots" not in logs

    # mem is a kernel limit: on Kubernetes the cgroup OOM-kills a predict that briefly goes
    # over it, every time; a periodic RSS check missed the spike and the replica lived on.
    (pid,) = local.replica_pids("model")
    cap = data_limit(150 << 20, threads=1)  # mem plus the thread stacks' reservations
    assert cap < 200 << 20
    assert f"Max data size             {cap}" in Path(f"/proc/{pid}/limits").read_text()
    answer = local.cli("predict", "model", str(tmp_path / "spike.json"))
    assert answer.returncode == 1 and "closed the connection" in answer.stderr
    wait_for(lambda: local.state_of("model").failed == 1, 15, "the failure counted")
    assert f"out of memory: an allocation failed under the data limit of {cap >> 20}Mi" in \
        local.cli("logs", "model").stdout
    events = [e.message for e in local.backend.events("model")]
    assert any("exited (137)" in m for m in events), events
    local.wait_status("model", "live", available=1)  # restarted, as the cluster would


def _digest(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def _wheel(folder: Path, name: str, module: str) -> Path:
    """A minimal pure-Python wheel written by hand: installing it needs no build, no index."""
    dist_info = f"{name}-1.0.dist-info"
    files = {
        f"{name}.py": module,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": ("Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                               "Tag: py3-none-any\n"),
    }
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name_in_zip, text in files.items():
            wheel.writestr(name_in_zip, text)
    return path


USES_DEPENDENCY = """
import cortex_test_dependency

def predict(sample, metadata):
    return cortex_test_dependency.ANSWER
"""


def test_requirements_install_into_a_reused_environment_or_fail_with_pips_reason(
    local: Local, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in (local.env, os.environ):  # offline: the operator's pip must not look online
        monkeypatch.setitem(env, "PIP_NO_INDEX", "1")
    good = make_project(tmp_path / "good", USES_DEPENDENCY)
    _wheel(good / "wheels", "cortex_test_dependency", "ANSWER = 'from the wheel'\n")
    (good / "requirements.txt").write_text("./wheels/cortex_test_dependency-1.0-py3-none-any.whl\n")
    broken = make_project(tmp_path / "broken", "def predict(sample, metadata):\n    return 1\n",
                          name="broken")
    (broken / "requirements.txt").write_text("# pinned\nno-such-package-for-cortex-tests==1.0\n")
    assert local.cli("deploy", "-p", str(good)).returncode == 0
    assert local.cli("deploy", "-p", str(broken)).returncode == 0

    installing = local.wait_status("model", "updating (installing requirements)")
    assert installing.up_to_date == 0  # no replica runs before its requirements are in
    local.wait_status("model", "live", timeout=60, available=1)
    (tmp_path / "sample.json").write_text("{}")
    answer = local.cli("predict", "model", str(tmp_path / "sample.json"))
    assert answer.stdout == '"from the wheel"\n', answer.stderr

    failed = local.wait_status("broken", "error", timeout=60)
    assert failed.message.startswith("requirements.txt: pip install failed: ERROR: "), failed
    assert "no-such-package-for-cortex-tests" in failed.message
    environments = local.state.root / "environments"
    assert len(list(environments.glob("*.log"))) == 2

    # Fixed by leaving only a comment: nothing to install, and the failed environment goes.
    (broken / "requirements.txt").write_text("# nothing needed after all\n")
    assert local.cli("deploy", "-p", str(broken)).returncode == 0
    local.wait_status("broken", "live", available=1)
    assert len(list(environments.glob("*.log"))) == 1

    # A new version with the same requirements.txt reuses the environment: no second install.
    (good / "inference.py").write_text(USES_DEPENDENCY.replace("ANSWER", "ANSWER + '!'"))
    assert local.cli("deploy", "-p", str(good)).returncode == 0
    wait_for(lambda: local.cli("predict", "model", str(tmp_path / "sample.json")).stdout
             == '"from the wheel!"\n', 30, "version 2 answering")
    installs = [e for e in local.backend.events("model") if "installing" in e.message]
    assert len(installs) == 1, installs
