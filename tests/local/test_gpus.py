"""GPUs on the local target: whole devices per replica, as Kubernetes' device plugin gives them.

No CI machine has a GPU: the operator under test discovers fake devices through
`CORTEX_TUI_GPU_SOURCE` (tests/helpers/fake_gpus.py); everything else is real (the operator,
the replica processes, their environments, the HTTP answers).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import onnxruntime
import psutil
import pytest

from cortex_tui.config import load_project
from cortex_tui.local.capacity import Resources, describe_shortfall
from cortex_tui.local.gpus import (
    Gpu,
    GpuPool,
    GpuSettingError,
    Nvml,
    discover,
    parse_selection,
)
from cortex_tui.local.oplog import Faults
from cortex_tui.local.store import History
from cortex_tui.types import MetricsPoint, ScaleRequest
from tests.helpers import fake_gpus
from tests.helpers.examples import copy_example
from tests.local.conftest import REPO, Local, make_project, wait_for

# A model that answers with the devices it was given.
SEES = """
import os

def predict(sample, metadata):
    return {"cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "nvidia": os.environ.get("NVIDIA_VISIBLE_DEVICES")}
"""


@pytest.fixture
def gpus(local: Local, monkeypatch: pytest.MonkeyPatch) -> Local:
    """The local target on a machine with two (fake) GPUs."""
    extra = {"CORTEX_TUI_GPU_SOURCE": fake_gpus.SOURCE, "FAKE_GPU_COUNT": "2",
             "PYTHONPATH": str(REPO)}
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    local.env.update(extra)
    return local


def devices_by_replica(local: Local, api: str) -> dict[str, tuple[int, ...]]:
    return {r["name"]: tuple(r["gpus"]) for r in local.backend._replicas(api) if r["alive"]}


def environ_devices(local: Local, api: str) -> set[str]:
    """CUDA_VISIBLE_DEVICES as the running replica processes really have it."""
    return {psutil.Process(pid).environ().get("CUDA_VISIBLE_DEVICES", "?")
            for pid in local.replica_pids(api)}


# ---- discovery and the pool, without an operator ---------------------------------------

def test_no_driver_means_no_gpu_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORTEX_TUI_GPU_SOURCE", raising=False)
    monkeypatch.delenv("CORTEX_TUI_GPUS", raising=False)
    assert Nvml().devices() == [] or os.path.exists("/dev/nvidiactl")
    assert Nvml().usage(0) is None or os.path.exists("/dev/nvidiactl")


def test_the_gpus_setting_restricts_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    source = fake_gpus.FakeGpus(4)
    monkeypatch.setenv("CORTEX_TUI_GPUS", "0, 2")
    assert [g.index for g in discover(source)] == [0, 2]
    monkeypatch.setenv("CORTEX_TUI_GPUS", "")
    assert len(discover(source)) == 4
    assert parse_selection(None) is None
    for bad in ("0;2", "gpu0", "-1", "1,,x", "\u0661"):
        with pytest.raises(GpuSettingError, match="CORTEX_TUI_GPUS"):
            parse_selection(bad)


def test_the_pool_hands_out_whole_free_devices() -> None:
    pool = GpuPool([Gpu(i, "g", 1) for i in (0, 1, 3)])
    assert pool.pick(taken=set(), count=2) == (0, 1)
    assert pool.pick(taken={0}, count=2) == (1, 3)
    assert pool.pick(taken={0, 1}, count=2) is None
    assert pool.pick(taken={0, 1, 3}, count=0) == ()
    assert pool.replica_cap(2) == 1 and pool.replica_cap(0) is None


def test_the_pending_reason_counts_free_devices() -> None:
    machine = Resources(cpu_millis=8000, mem=64 << 30, gpu=2)
    free = Resources(cpu_millis=8000, mem=64 << 30, gpu=1)
    assert describe_shortfall(Resources(100, 0, 2), free, machine) == \
        "gpu 2 requested, 1 free of 2 (other replicas hold the rest)"
    assert describe_shortfall(Resources(100, 0, 3), free, machine) == \
        "gpu 3 requested, more than this machine's 2"
    none = Resources(cpu_millis=8000, mem=64 << 30, gpu=0)
    assert "gpu 1 requested, this machine has no GPU" in \
        describe_shortfall(Resources(100, 0, 1), none, none)


# ---- the real operator ------------------------------------------------------------------

def test_each_replica_gets_its_own_device_and_the_rest_stays_pending(
    gpus: Local, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "g", SEES, name="g",
                        compute="gpu: 1\nmin_replicas: 2\nmax_replicas: 2\n")
    gpus.backend.deploy(load_project(root))
    gpus.wait_status("g", "live", timeout=30, available=2)
    held = devices_by_replica(gpus, "g")
    assert sorted(held.values()) == [(0,), (1,)]
    assert environ_devices(gpus, "g") == {"0", "1"}
    answer = gpus.backend.predict("g", 1).body
    assert answer["cuda"] in {"0", "1"} and answer["nvidia"] == answer["cuda"]

    info = gpus.backend.operator_info()
    assert [(d["index"], d["name"], d["replica"] in held) for d in info["gpus"]] == \
        [(0, "Fake H100 80GB", True), (1, "Fake H100 80GB", True)]
    assert info["gpus"][1]["utilization"] == 20.0 and info["gpu"] == 2
    target = gpus.backend.target_info()
    assert [(d.index, d.memory_used) for d in target.gpus] == [(0, 1 << 30), (1, 2 << 30)]
    state = gpus.state_of("g")
    assert sorted((r.gpus, r.gpu_utilization) for r in state.replicas) == \
        [((0,), 10.0), ((1,), 20.0)]
    out = gpus.cli("get", "g")
    detail = out.stdout + out.stderr
    assert "replica" in detail and "gpu busy" in detail and "20%" in detail, detail
    points = wait_for(lambda: [p for p in gpus.backend.metrics("g").points
                               if p.gpu_utilization is not None], 10, "a point with GPU load")
    assert points[-1].gpu_utilization == 15.0  # the average of its two devices
    status = gpus.cli("local", "status").stdout
    assert "gpus: 2\n  gpu 0: Fake H100 80GB, 80.0Gi, replica g-v1-" in status
    assert "% busy, 2.0Gi used" in status

    # A second API finds no free device: pending with the reason, no process started.
    other = make_project(tmp_path / "h", SEES, name="h", compute="gpu: 1\n")
    gpus.backend.deploy(load_project(other))
    state = gpus.wait_status("h", "compute unavailable", timeout=15)
    assert "gpu 1 requested, 0 free of 2 (other replicas hold the rest)" in state.message
    assert gpus.replica_pids("h") == set()

    # Scaling g down frees a device, which h then gets.
    gpus.backend.scale("g", ScaleRequest(min_replicas=1, max_replicas=1))
    gpus.wait_status("h", "live", timeout=30)
    assert len(devices_by_replica(gpus, "g")) == 1
    assert set(devices_by_replica(gpus, "h").values()) | set(
        devices_by_replica(gpus, "g").values()) == {(0,), (1,)}


def test_devices_are_readopted_after_an_operator_restart(gpus: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "g", SEES, name="g", compute="gpu: 2\n")
    gpus.backend.deploy(load_project(root))
    gpus.wait_status("g", "live", timeout=30)
    pids = gpus.replica_pids("g")
    assert environ_devices(gpus, "g") == {"0,1"}

    # The state file loses its record of the devices; the processes keep them.
    pid = gpus.operator_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(pid) or
             psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 10, "operator gone")
    data = json.loads(gpus.state.state.read_text())
    for replica in data["replicas"]:
        replica.pop("gpus", None)
    gpus.state.state.write_text(json.dumps(data))

    other = make_project(tmp_path / "h", SEES, name="h", compute="gpu: 1\n")
    gpus.backend.deploy(load_project(other))  # starts a new operator, which re-adopts g
    state = gpus.wait_status("h", "compute unavailable", timeout=15)
    assert "gpu 1 requested, 0 free of 2" in state.message
    assert gpus.replica_pids("g") == pids
    assert list(devices_by_replica(gpus, "g").values()) == [(0, 1)]


def test_the_autoscaler_plans_no_more_gpu_replicas_than_devices(
    gpus: Local, tmp_path: Path
) -> None:
    busy = """
import time

def predict(sample, metadata):
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    return 1
"""
    root = make_project(tmp_path / "g", busy, name="g",
                        compute="gpu: 1\ncpu: 50m\nmax_replicas: 5\ntarget_cpu_utilization: 10\n")
    gpus.backend.deploy(load_project(root))
    gpus.wait_status("g", "live", timeout=30)
    for _ in range(40):
        gpus.backend.predict("g", 1)
    wait_for(lambda: gpus.state_of("g").requested == 2, 20, "scale-up to the 2 devices")
    for _ in range(40):
        gpus.backend.predict("g", 1)
    gpus.wait_status("g", "live", timeout=20, available=2)
    assert gpus.state_of("g").requested == 2  # never 3+: no device for them


def test_a_bad_gpu_setting_is_named_when_the_operator_cannot_start(
    gpus: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpus.env["CORTEX_TUI_GPUS"] = "all"
    out = gpus.cli("get")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "CORTEX_TUI_GPUS='all': expected device indices separated by commas" in out.stderr


def test_a_rollout_waiting_for_devices_its_old_replicas_hold_replaces_them(
    gpus: Local, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "g", SEES, name="g", compute="gpu: 2\n")
    gpus.backend.deploy(load_project(root))
    gpus.wait_status("g", "live", timeout=30)
    old = gpus.replica_pids("g")
    (root / "inference.py").write_text(SEES.replace('"cuda"', '"v2_cuda"'))
    gpus.backend.deploy(load_project(root))
    state = wait_for(lambda: (s := gpus.state_of("g")).status != "live" and s, 10, "rollout")
    assert state.message in ("", "replica pending: gpu 2 requested, waiting for the previous "
                             "version's replicas to release theirs")
    gpus.wait_status("g", "live", timeout=40)
    assert "v2_cuda" in gpus.backend.predict("g", 1).body
    assert gpus.replica_pids("g").isdisjoint(old)
    assert environ_devices(gpus, "g") == {"0,1"}


def test_a_history_file_of_the_previous_version_gets_the_gpu_column(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE points (t REAL NOT NULL, api TEXT NOT NULL, requested INTEGER, "
        "ready INTEGER, rate REAL, latency REAL, c2 INTEGER, c4 INTEGER, c5 INTEGER, cpu REAL);"
        "INSERT INTO points VALUES (1.0, 'a', 1, 1, 2.5, 3.0, 4, 0, 0, 12.0);")
    old.close()
    said: list[str] = []
    history = History(path, Faults(said.append))
    history.add_point("a", MetricsPoint(2.0, 1, 1, 1.0, None, gpu_utilization=55.0))
    assert [(p.cpu_utilization, p.gpu_utilization) for p in history.points("a", None)] == \
        [(12.0, None), (None, 55.0)]
    history.close()
    assert said == []


def test_an_onnx_api_on_a_gpu_says_which_provider_runs_it(gpus: Local, tmp_path: Path) -> None:
    root = copy_example("iris-onnx", tmp_path, "onnx")
    config = root / "cortex.yaml"
    config.write_text(config.read_text().replace("    cpu: 200m\n", "    cpu: 200m\n    gpu: 1\n"))
    gpus.backend.deploy(load_project(root))
    gpus.wait_status("iris-onnx", "live", timeout=60)
    sample = json.loads((root / "sample.json").read_text())
    assert gpus.backend.predict("iris-onnx", sample).status == 200
    assert environ_devices(gpus, "iris-onnx") == {"0"}
    logs = gpus.cli("logs", "iris-onnx").stdout
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert "compute.gpu is 1 but this onnxruntime has no CUDA provider" in logs, logs
        assert "onnx model iris.onnx on CPUExecutionProvider" in logs
    else:  # pragma: no cover - a machine with the GPU build
        assert "onnx model iris.onnx on CUDAExecutionProvider" in logs
