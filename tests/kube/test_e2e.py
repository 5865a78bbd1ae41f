"""End to end on the Kubernetes target: against the fake API server, and against a real cluster
when CORTEX_TUI_E2E_KUBECONFIG is set (the same assertions, so the fake is checked)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cortex_tui.config import load_project
from cortex_tui.errors import ApiNotFound
from cortex_tui.kube import objects
from cortex_tui.types import ScaleRequest, Status
from tests.helpers.predictor_process import wait_until
from tests.kube.conftest import IRIS, IRIS_SAMPLE, Cluster, edit_config

KINDS = ("ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler")


def _live(cluster: Cluster, api: str, replicas: int = 1) -> None:
    def ready() -> bool:
        state = cluster.backend.get(api)[0]
        return state.status is Status.LIVE and state.up_to_date == state.available >= replicas

    wait_until(ready, cluster.timeout, f"{api} live")


def _versions(cluster: Cluster, api: str) -> dict[str, str]:
    conn = cluster.backend.conn
    found = {kind: objects.read(conn, kind, name) for kind, name in
             [(k, f"{api}-project" if k == "ConfigMap" else api) for k in KINDS]}
    return {kind: obj["metadata"]["resourceVersion"] for kind, obj in found.items() if obj}


def test_deploy_goes_live_and_predicts_through_the_service_proxy(cluster: Cluster, iris: Path
                                                                 ) -> None:
    cluster.serve(iris, IRIS)
    result = cluster.backend.deploy(load_project(iris))
    assert [(c.api, c.action) for c in result.changes] == [(IRIS, "created")]
    _live(cluster, IRIS)
    state = cluster.backend.get(IRIS)[0]
    assert (state.min_replicas, state.max_replicas, state.target_cpu_utilization) == (1, 4, 80)
    assert state.endpoint and state.endpoint.endswith(f"/services/{IRIS}:http/proxy/{IRIS}")

    answer = cluster.backend.predict(IRIS, IRIS_SAMPLE)
    assert answer.status == 200
    assert answer.body["label"] == "setosa"
    bad = cluster.backend.predict(IRIS, "not an iris")
    assert bad.status >= 400  # the replica's own error, passed through the proxy


def test_redeploying_an_unchanged_project_writes_nothing(cluster: Cluster, iris: Path) -> None:
    project = load_project(iris)
    cluster.backend.deploy(project)
    before = _versions(cluster, IRIS)
    if cluster.fake:
        cluster.fake.clear_requests()
    result = cluster.backend.deploy(project)
    assert [(c.api, c.action) for c in result.changes] == [(IRIS, "unchanged")]
    if cluster.fake:
        assert cluster.fake.writes == []
    after = _versions(cluster, IRIS)
    # Controllers may write status (resourceVersion moves) but never because of us: the
    # objects' config hashes are the same and nothing reports a change.
    assert set(after) == set(before) == set(KINDS)


def test_a_compute_change_rolls_out_the_pods_and_leaves_the_rest(
    cluster: Cluster, iris: Path
) -> None:
    cluster.backend.deploy(load_project(iris))
    _live(cluster, IRIS)
    if cluster.fake:
        cluster.fake.clear_requests()
    changed = edit_config(iris, "cpu: 200m", "cpu: 300m")
    result = cluster.backend.deploy(changed)
    assert [(c.api, c.action, c.message) for c in result.changes] == [
        (IRIS, "updated", "compute.cpu changed")
    ]
    if cluster.fake:
        # The API's own config (in its ConfigMap) and its pods changed; Service and HPA did not.
        assert [(m, p.rsplit("/", 2)[-2]) for m, p, s in cluster.fake.writes if s < 400] == [
            ("PUT", "configmaps"), ("PUT", "deployments")
        ]

    def rolled() -> bool:
        pods = cluster.backend.conn.core.list_namespaced_pod(
            cluster.backend.conn.namespace, label_selector=f"app.kubernetes.io/name={IRIS}")
        live = [p for p in pods.items if p.metadata.deletion_timestamp is None]
        return bool(live) and all(
            p.spec.containers[0].resources.requests["cpu"] == "300m" for p in live
        ) and cluster.backend.get(IRIS)[0].status is Status.LIVE

    wait_until(rolled, cluster.timeout, "the new pods")


def test_an_api_removed_from_the_file_is_pruned(cluster: Cluster, iris: Path) -> None:
    config = iris / "cortex.yaml"
    entries = yaml.safe_load(config.read_text())
    twin = dict(entries[0], name="iris-twin")
    config.write_text(yaml.safe_dump([*entries, twin], sort_keys=False))
    cluster.backend.deploy(load_project(iris))
    assert [s.name for s in cluster.backend.get()] == [IRIS, "iris-twin"]

    config.write_text(yaml.safe_dump(entries, sort_keys=False))
    result = cluster.backend.deploy(load_project(iris))
    assert ("iris-twin", "deleted") in [(c.api, c.action) for c in result.changes]
    assert ((IRIS, "unchanged")) in [(c.api, c.action) for c in result.changes]
    assert _versions(cluster, "iris-twin") == {}

    def gone() -> bool:
        return [s.name for s in cluster.backend.get()] == [IRIS]

    wait_until(gone, cluster.timeout, "the twin's pods to go")


def test_scale_patches_the_hpa_and_keeps_replicas_in_bounds(cluster: Cluster, iris: Path
                                                            ) -> None:
    cluster.backend.deploy(load_project(iris))
    _live(cluster, IRIS)
    state = cluster.backend.scale(IRIS, ScaleRequest(min_replicas=2, max_replicas=3,
                                                     target_cpu_utilization=60))
    assert (state.min_replicas, state.max_replicas, state.target_cpu_utilization) == (2, 3, 60)
    hpa = cluster.backend.conn.autoscaling.read_namespaced_horizontal_pod_autoscaler(
        IRIS, cluster.backend.conn.namespace)
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 3)
    assert hpa.spec.metrics[0].resource.target.average_utilization == 60
    _live(cluster, IRIS, replicas=2)
    assert cluster.backend.get(IRIS)[0].requested == 2

    from cortex_tui.errors import BackendError

    with pytest.raises(BackendError, match="min_replicas"):
        cluster.backend.scale(IRIS, ScaleRequest(min_replicas=5))


def test_logs_come_from_every_replica(cluster: Cluster, iris: Path) -> None:
    project = edit_config(iris, "min_replicas: 1", "min_replicas: 2")
    cluster.backend.deploy(project)
    _live(cluster, IRIS, replicas=2)

    def lines_of_both() -> set[str]:
        pods = {line.replica for line in cluster.backend.logs(IRIS) if line.text}
        return pods if len(pods) == 2 else set()

    pods = wait_until(lines_of_both, cluster.timeout, "log lines from both replicas")
    assert all(pod.startswith(f"{IRIS}-") for pod in pods)


def test_delete_removes_every_object_of_the_api(cluster: Cluster, iris: Path) -> None:
    cluster.backend.deploy(load_project(iris))
    assert cluster.backend.delete(IRIS) == [IRIS]
    assert _versions(cluster, IRIS) == {}

    def gone() -> bool:
        try:
            cluster.backend.get(IRIS)
        except ApiNotFound:
            return True
        return False

    wait_until(gone, cluster.timeout, "the pods to terminate")
    with pytest.raises(ApiNotFound):
        cluster.backend.delete(IRIS)
