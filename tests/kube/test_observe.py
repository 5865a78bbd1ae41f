"""Watching APIs on Kubernetes: logs (follow across restarts), metrics from /stats, HPA,
events, the target's nodes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.errors import ApiNotFound, BackendError
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.types import LogLine, ScaleRequest, Status
from tests.helpers.fakekube import FakeKube
from tests.helpers.predictor_process import Predictor
from tests.kube.conftest import IRIS, IRIS_SAMPLE, edit_config, serve_api

SELECT = {"app.kubernetes.io/name": IRIS}


def _live(fake: FakeKube, backend: KubernetesBackend, replicas: int = 1) -> None:
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE
                  and backend.get(IRIS)[0].available == replicas, message="live")


def _pod_names(fake: FakeKube) -> list[str]:
    return sorted(p["metadata"]["name"] for p in fake.pods("cortex")
                  if not p["metadata"].get("deletionTimestamp"))


def test_logs_tail_prefixes_each_line_with_its_replica(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(edit_config(iris, "min_replicas: 1", "min_replicas: 2"))
    _live(fake, backend, 2)
    first, second = _pod_names(fake)
    fake.write_log("cortex", first, "one\ntwo")
    fake.write_log("cortex", second, "three")
    lines = list(backend.logs(IRIS, tail=1))
    assert sorted((line.replica, line.text) for line in lines) == [
        (first, "two"), (second, "three")
    ]


def test_follow_keeps_streaming_across_restarts_and_new_replicas(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(load_project(iris))
    _live(fake, backend)
    (pod,) = _pod_names(fake)
    received: list[LogLine] = []
    stream = backend.logs(IRIS, follow=True)
    done = threading.Event()

    def consume() -> None:
        for line in stream:
            received.append(line)
            if line.text == "after a new replica":
                break
        done.set()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    fake.write_log("cortex", pod, "before the restart")
    fake.wait_for(lambda: any(r.text == "before the restart" for r in received),
                  message="first line")
    fake.logs.restart("cortex", pod, "predictor")  # the container restarts: a new log begins
    fake.write_log("cortex", pod, "after the restart")
    fake.wait_for(lambda: any(r.text == "after the restart" for r in received),
                  message="line after the restart")
    backend.scale(IRIS, ScaleRequest(min_replicas=2))
    new_pod = fake.wait_for(lambda: next((n for n in _pod_names(fake) if n != pod), None),
                            message="a second replica")
    fake.wait_for(lambda: any(r.replica == new_pod for r in received), message="its first line")
    fake.write_log("cortex", new_pod, "after a new replica")
    assert done.wait(10)
    stream.close()
    texts = [r.text for r in received if r.replica == pod]
    assert texts.count("before the restart") == 1  # reopened streams never repeat a line
    assert texts.index("before the restart") < texts.index("after the restart")


def test_closing_a_quiet_follow_from_another_thread_ends_its_reader_at_once(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    """The TUI closes a follow from its own thread when the user leaves the logs tab: the
    reader, blocked on a quiet log, must end (it used to wait for the next line, forever)."""
    backend.deploy(load_project(iris))
    _live(fake, backend)
    stream = backend.logs(IRIS, follow=True, tail=0)
    reader = threading.Thread(target=lambda: list(stream), daemon=True)
    reader.start()
    fake.wait_for(lambda: any("/log" in path for _, path, _ in list(fake.requests)),
                  message="the pod's log stream open")
    stream.close()
    reader.join(timeout=5)
    assert not reader.is_alive()


def test_logs_of_an_unknown_api(backend: KubernetesBackend) -> None:
    with pytest.raises(ApiNotFound):
        backend.logs("nope")


def test_metrics_sum_every_ready_replica_and_keep_a_time_series(
    fake: FakeKube, backend: KubernetesBackend, iris: Path, predictors: list[Predictor]
) -> None:
    replica = serve_api(fake, predictors, iris, IRIS)
    backend.deploy(edit_config(iris, "min_replicas: 1", "min_replicas: 2"))
    _live(fake, backend, 2)
    first = backend.metrics(IRIS)
    for _ in range(3):
        assert backend.predict(IRIS, IRIS_SAMPLE).status == 200
    assert backend.predict(IRIS, "not a sample").status >= 400
    fake.set_cpu(IRIS, 85)
    fake.wait_for(lambda: backend.metrics(IRIS).points[-1].cpu_utilization == 85.0,
                  message="cpu from the HPA")
    metrics = backend.metrics(IRIS)
    # Both pods are routed to the same real replica: each scrape reads its totals twice.
    own = replica.stats()["network_stats"]
    assert metrics.network.total == 2 * own["total"] >= 8
    assert metrics.network.code_2xx == 2 * own["code_2xx"]
    assert metrics.tracker is not None and metrics.tracker.class_distribution == {"setosa": 6}
    assert len(metrics.points) >= 3 and metrics.points[0].t == first.points[0].t
    assert sum(p.code_2xx for p in metrics.points) == 6
    assert all(p.ready == 2 for p in metrics.points)
    state = backend.get()[0]  # the APIs table shows request totals too
    assert state.network.total == metrics.network.total
    assert state.tracker and state.tracker.class_distribution == {"setosa": 6}
    assert backend.predict(IRIS, IRIS_SAMPLE).status == 200
    assert (backend.get()[0].request_rate or 0) > 0  # the backend fills REQ/S, no screen does
    assert backend.metrics(IRIS, since=metrics.points[-1].t).points[0].t == metrics.points[-1].t


def test_the_hpa_scales_on_the_cpu_figure_within_the_bounds(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(load_project(iris))  # min 1, max 4, target 80 %
    _live(fake, backend)
    fake.set_cpu(IRIS, 400)  # five times the target: 1 -> 5, capped at max_replicas (4)
    fake.wait_for(lambda: backend.get(IRIS)[0].requested == 4, message="scaled to max")
    _live(fake, backend, 4)
    fake.set_cpu(IRIS, 10)
    fake.wait_for(lambda: backend.get(IRIS)[0].requested == 1, message="scaled down to min")
    kinds = {e.kind for e in backend.events(IRIS)}
    assert "scaled" in kinds


def test_predict_without_a_ready_replica_is_a_clear_error(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "unready")
    backend.deploy(load_project(iris))
    with pytest.raises(BackendError, match=f'api "{IRIS}" has no ready replica'):
        backend.predict(IRIS, IRIS_SAMPLE)
    with pytest.raises(ApiNotFound):
        backend.predict("nope", IRIS_SAMPLE)


def test_events_tell_the_story_of_an_api(fake: FakeKube, backend: KubernetesBackend,
                                         iris: Path) -> None:
    fake.behave(SELECT, "crash", "boom")
    backend.deploy(load_project(iris))
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.ERROR, message="error")
    fake.behave(SELECT, "ready")
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE, message="live")
    events = backend.events(IRIS)
    kinds = {e.kind for e in events}  # Kubernetes events carry whole seconds: no strict order
    assert {"deployed", "scaled", "failed", "ready"} <= kinds
    assert any(e.kind == "failed" and "BackOff" in e.message for e in events)
    assert events == sorted(events, key=lambda e: e.t)
    assert backend.events(IRIS, since=events[-1].t)[0] == events[-1]


def test_target_info_counts_nodes_and_allocatable_resources(
    fake: FakeKube, backend: KubernetesBackend
) -> None:
    fake.add_node("gpu-node", cpu="8", memory="32Gi", gpu=2)
    info = backend.target_info()
    assert (info.kind, info.name, info.namespace, info.nodes) == ("kubernetes", "fake",
                                                                  "cortex", 2)
    assert (info.cpu, info.memory, info.gpu) == (12.0, 48 * 2**30, 2)


def test_target_info_without_the_right_to_list_nodes(
    fake: FakeKube, backend: KubernetesBackend
) -> None:
    fake.forbidden.add("nodes")
    info = backend.target_info()
    assert (info.namespace, info.nodes, info.cpu) == ("cortex", 0, 0.0)


def test_logs_of_a_crash_looping_api_show_the_crash(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.behave(SELECT, "crash", "Traceback (most recent call last):\nImportError: torch")
    backend.deploy(load_project(iris))
    state = fake.wait_for(lambda: (s := backend.get(IRIS)[0]).status is Status.ERROR and s,
                          message="error")
    assert state.message == "ImportError: torch"  # a multi-line message: its last line
    texts = [line.text for line in backend.logs(IRIS)]
    assert texts[-2:] == ["Traceback (most recent call last):", "ImportError: torch"]
    assert texts.count("ImportError: torch") == 1  # the last crash, not every one
