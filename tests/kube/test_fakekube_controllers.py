"""The fake's controllers behave like the cluster's: Deployment -> ReplicaSet -> Pods, rolling
updates, the HPA, the scheduler (Pending), the kubelet (crash loops, OOM), garbage collection."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.helpers.fakekube import FakeKube
from tests.kube.test_fakekube_api import deployment

NS = "cortex"


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _running(fake: FakeKube) -> list[dict[str, Any]]:
    return [p for p in fake.pods(NS) if not p["metadata"].get("deletionTimestamp")]


def test_a_deployment_gets_a_replicaset_and_ready_pods(api: client.ApiClient,
                                                       fake: FakeKube) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment(replicas=3)))

    def available() -> client.V1Deployment | None:
        found = apps.read_namespaced_deployment("web", NS)
        return found if (found.status.available_replicas or 0) == 3 else None

    live = fake.wait_for(available, message="3 available replicas")
    assert live.status.updated_replicas == live.status.ready_replicas == 3
    assert {c.type: c.status for c in live.status.conditions} == {
        "Available": "True", "Progressing": "True"}
    (replicaset,) = apps.list_namespaced_replica_set(NS).items
    assert replicaset.metadata.owner_references[0].name == "web"
    assert replicaset.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    pods = _running(fake)
    assert len(pods) == 3 and all(_ready(p) for p in pods)
    assert all(p["spec"]["nodeName"] == "node-1" for p in pods)


def test_a_template_change_rolls_out_without_dropping_ready_replicas(
    api: client.ApiClient, fake: FakeKube
) -> None:
    apps = client.AppsV1Api(api)
    body = deployment(replicas=2)
    body["spec"]["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(body))
    fake.wait_for(lambda: sum(_ready(p) for p in _running(fake)) == 2, message="2 ready")
    lowest = [2]
    apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {
        "containers": [{"name": "main", "image": "img:2"}]}}}})

    def rolled() -> bool:
        pods = _running(fake)
        lowest[0] = min(lowest[0], sum(_ready(p) for p in pods))
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        return images == {"img:2"} and len(pods) == 2 and all(_ready(p) for p in pods)

    fake.wait_for(rolled, message="the rollout")
    assert lowest[0] >= 2
    revisions = sorted(r.metadata.annotations["deployment.kubernetes.io/revision"]
                       for r in apps.list_namespaced_replica_set(NS).items)
    assert revisions == ["1", "2"]


def test_the_hpa_scales_from_the_cpu_figure_the_test_sets(api: client.ApiClient,
                                                          fake: FakeKube) -> None:
    apps = client.AppsV1Api(api)
    hpas = client.AutoscalingV2Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment(replicas=2)))
    hpas.create_namespaced_horizontal_pod_autoscaler(NS, {
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "web"},
                 "minReplicas": 1, "maxReplicas": 5, "metrics": [{"type": "Resource",
                 "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                        "averageUtilization": 50}}}]}})
    fake.set_cpu("web", 100)  # 2 x 100 / 50 = 4, then the load spreads: 4 at 50 %, stable
    fake.wait_for(lambda: apps.read_namespaced_deployment("web", NS).spec.replicas == 4,
                  message="4 replicas")
    status = fake.wait_for(
        lambda: (s := hpas.read_namespaced_horizontal_pod_autoscaler("web", NS).status)
        and s.current_metrics and s.desired_replicas == 4 and s, message="the HPA status")
    assert status.current_metrics[0].resource.current.average_utilization == 50
    fake.set_cpu("web", 53)  # within the 10 % tolerance: no change
    fake.wait_for(lambda: hpas.read_namespaced_horizontal_pod_autoscaler(
        "web", NS).status.current_metrics[0].resource.current.average_utilization == 53,
        message="the new figure")
    assert apps.read_namespaced_deployment("web", NS).spec.replicas == 4
    fake.set_cpu("web", 1000)
    fake.wait_for(lambda: apps.read_namespaced_deployment("web", NS).spec.replicas == 5,
                  message="capped at maxReplicas")


def test_pods_that_fit_no_node_stay_pending_with_the_scheduler_reason(
    api: client.ApiClient, fake: FakeKube
) -> None:
    body = deployment(replicas=2)
    body["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "3"
    client.AppsV1Api(api).create_namespaced_deployment(NS, client.V1Deployment.from_dict(body))

    def one_pending() -> dict[str, Any] | None:
        pods = _running(fake)
        pending = [p for p in pods if not p["spec"].get("nodeName")]
        return pending[0] if len(pods) == 2 and len(pending) == 1 and any(
            c.get("reason") == "Unschedulable"
            for c in pending[0]["status"].get("conditions", [])) else None

    pending = fake.wait_for(one_pending, message="one pod pending (4 cores, 2 x 3 asked)")
    condition = next(c for c in pending["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    reasons = {e.reason for e in client.CoreV1Api(api).list_namespaced_event(NS).items}
    assert {"FailedScheduling", "Scheduled", "SuccessfulCreate", "ScalingReplicaSet"} <= reasons


@pytest.mark.parametrize(("mode", "reason", "code"), [("crash", "Error", 1),
                                                      ("oom", "OOMKilled", 137)])
def test_crash_loops_and_oom_kills_on_demand(api: client.ApiClient, fake: FakeKube, mode: str,
                                            reason: str, code: int) -> None:
    fake.behave({"app": "web"}, mode, "it broke")
    client.AppsV1Api(api).create_namespaced_deployment(NS, client.V1Deployment.from_dict(
        deployment()))

    def restarted_twice() -> client.V1ContainerStatus | None:
        pods = client.CoreV1Api(api).list_namespaced_pod(NS).items
        statuses = pods[0].status.container_statuses if pods else None
        return statuses[0] if statuses and statuses[0].restart_count >= 2 else None

    container = fake.wait_for(restarted_twice, message="two restarts")
    assert container.state.waiting.reason == "CrashLoopBackOff"
    terminated = container.last_state.terminated
    assert (terminated.reason, terminated.exit_code) == (reason, code)
    assert terminated.message == ("it broke" if mode == "crash" else None)
    assert not container.ready


def test_deleting_a_deployment_collects_its_replicasets_and_pods(
    api: client.ApiClient, fake: FakeKube
) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment(replicas=2)))
    fake.wait_for(lambda: len(_running(fake)) == 2, message="2 pods")
    apps.delete_namespaced_deployment("web", NS, propagation_policy="Foreground")
    assert apps.read_namespaced_deployment("web", NS).metadata.deletion_timestamp is not None
    fake.wait_for(lambda: not fake.pods(NS) and not apps.list_namespaced_replica_set(NS).items
                  and not apps.list_namespaced_deployment(NS).items, message="all gone")
