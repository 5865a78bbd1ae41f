"""The local target behaves as the same API does on Kubernetes, seen through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.local.conftest import Local, make_project

ANSWERS = """
def predict(sample, metadata):
    if sample == "boom":
        raise ValueError("no such house")
    return sample["answer"]
"""
RAISE_LINE = 4


def test_predict_prints_json_and_logs_name_the_users_file(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", ANSWERS)
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    local.wait_status("model", "live", available=1)
    samples = {"text": '{"answer": "26.9"}', "number": '{"answer": 26.9}', "boom": '"boom"'}
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
