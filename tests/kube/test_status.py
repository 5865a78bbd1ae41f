"""SPEC §6 status words on Kubernetes, driven by the fake's kubelet and scheduler."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.types import ApiState, Status
from tests.helpers.fakekube import FakeKube
from tests.kube.conftest import IRIS, edit_config

SELECT = {"app.kubernetes.io/name": IRIS}


def _status(fake: FakeKube, backend: KubernetesBackend, wanted: Status) -> ApiState:
    def reached() -> ApiState | None:
        state = backend.get(IRIS)[0]
        return state if state.status is wanted else None

    return fake.wait_for(reached, message=f"status {wanted}")


def test_crash_looping_replicas_show_error_with_the_termination_message(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "crash", "init failed: ModuleNotFoundError: No module named 'torch'")
    backend.deploy(load_project(iris))
    state = _status(fake, backend, Status.ERROR)
    assert state.message == "init failed: ModuleNotFoundError: No module named 'torch'"
    assert state.available == 0
    fake.wait_for(lambda: backend.get(IRIS)[0].failed == 1, message="a failed replica")


def test_crash_without_message_shows_the_crash_loop_reason(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "crash")
    backend.deploy(load_project(iris))
    state = _status(fake, backend, Status.ERROR)
    assert state.message.startswith("CrashLoopBackOff: back-off")


def test_oom_killed_replicas_show_out_of_memory(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "oom")
    backend.deploy(load_project(iris))
    state = _status(fake, backend, Status.OUT_OF_MEMORY)
    assert "OOMKilled" in state.message


def test_replicas_no_node_can_hold_show_compute_unavailable(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    project = edit_config(iris, "cpu: 200m", "cpu: 64")  # the fake's node has 4 cores
    backend.deploy(project)
    state = _status(fake, backend, Status.COMPUTE_UNAVAILABLE)
    assert state.message == "0/1 nodes are available: 1 Insufficient cpu."
    assert (state.requested, state.available) == (1, 0)


def test_compute_unavailable_clears_when_a_node_joins(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 6"))
    _status(fake, backend, Status.COMPUTE_UNAVAILABLE)
    fake.add_node("big-node", cpu="8", memory="32Gi")
    _status(fake, backend, Status.LIVE)


def test_not_yet_ready_replicas_show_updating_then_live(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "unready")
    backend.deploy(load_project(iris))
    state = backend.get(IRIS)[0]
    assert state.status is Status.UPDATING and state.message == ""
    fake.behave(SELECT, "ready")
    _status(fake, backend, Status.LIVE)


def test_a_broken_rollout_keeps_the_old_replicas_serving(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(load_project(iris))
    _status(fake, backend, Status.LIVE)
    project = edit_config(iris, "cpu: 200m", "cpu: 250m")
    old_pods = {p["metadata"]["name"] for p in fake.pods("cortex")}
    # New pods crash: the rollout never drops below the ready count (maxUnavailable 0).
    fake.behave(SELECT, "crash", "boom")
    fake.behave({"pod-template-hash": fake.pods("cortex")[0]["metadata"]["labels"][
        "pod-template-hash"]}, "ready")
    backend.deploy(project)
    _status(fake, backend, Status.ERROR)
    serving = [p for p in fake.pods("cortex") if p["metadata"]["name"] in old_pods
               and not p["metadata"].get("deletionTimestamp")]
    assert len(serving) == 1


def test_get_after_delete_shows_stopping_until_the_pods_are_gone(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.termination_ticks = 50  # pods take about a second to shut down
    backend.deploy(load_project(iris))
    _status(fake, backend, Status.LIVE)
    backend.delete(IRIS)
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.STOPPING, message="stopping")
    assert backend.get(IRIS)[0].endpoint is None
