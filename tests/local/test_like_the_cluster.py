"""The local target behaves as the same API does on Kubernetes, seen through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.local.conftest import Local, make_project, wait_for

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


SPIKE = """
def predict(sample, metadata):
    if sample == "spike":
        buffer = bytearray(200 << 20)  # briefly 200 MiB, freed at once
        return len(buffer)
    return sample
"""


def test_mem_is_a_kernel_limit_a_brief_spike_over_it_stops_the_replica(
    local: Local, tmp_path: Path
) -> None:
    # On Kubernetes the cgroup OOM-kills such a predict every time; a periodic RSS check
    # missed the spike and the replica lived on.
    root = make_project(tmp_path / "spike", SPIKE, compute="mem: 150Mi\n")
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    local.wait_status("model", "live", available=1)
    (pid,) = local.replica_pids("model")
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert f"Max data size             {150 << 20}" in limits
    (tmp_path / "spike.json").write_text('"spike"')

    answer = local.cli("predict", "model", str(tmp_path / "spike.json"))
    assert answer.returncode == 1 and "closed the connection" in answer.stderr
    state = wait_for(lambda: (s := local.state_of("model")).failed == 1 and s, 15, "the failure")
    assert "out of memory: an allocation went past the mem limit of 150Mi" in local.cli(
        "logs", "model").stdout
    events = [e.message for e in local.backend.events("model")]
    assert any("exited (137)" in m for m in events), events
    local.wait_status("model", "live", available=1)  # restarted, as the cluster would
    assert state.failed == 1
