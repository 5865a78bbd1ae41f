"""A hardened namespace (Pod Security `restricted`, a ResourceQuota) as the fake API server
enforces it, like a real one: what cortex-tui deploys is admitted and goes live; what the
namespace refuses makes no pod, and `get` says why (the ReplicaSet's FailedCreate)."""

from __future__ import annotations

import json
import re
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from cortex_tui.config import load_project
from cortex_tui.kube import objects
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.settings import Environment
from cortex_tui.types import ApiState, ScaleRequest, Status
from tests.helpers.fakekube import FakeKube
from tests.helpers.fakekube.resources import by_kind
from tests.kube.conftest import IRIS, edit_config


def _status(fake: FakeKube, backend: KubernetesBackend, wanted: Status) -> str:
    def reached() -> ApiState | None:
        state = backend.get(IRIS)[0]
        return state if state.status is wanted else None

    return fake.wait_for(reached, message=f"status {wanted}").message


def test_deployed_pods_are_admitted_and_the_budget_follows_scale(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    (iris / "requirements.txt").write_text("scikit-learn\n")  # one more init container
    backend.deploy(load_project(iris))
    _status(fake, backend, Status.LIVE)
    (pod,) = fake.pods("cortex")
    assert [c["name"] for c in pod["spec"]["initContainers"]] == [
        "unpack-project", "install-requirements"]
    pdb = objects.read(backend.conn, "PodDisruptionBudget", IRIS)
    assert pdb is not None and pdb["spec"]["maxUnavailable"] == 1
    backend.scale(IRIS, ScaleRequest(min_replicas=4, max_replicas=6))
    pdb = objects.read(backend.conn, "PodDisruptionBudget", IRIS)
    assert pdb is not None and pdb["spec"].get("minAvailable") == 3
    assert "maxUnavailable" not in pdb["spec"]


def test_a_pod_the_quota_refuses_is_an_error_with_the_quota_message(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(edit_config(iris, "mem: 128Mi", "gpu: 0"))  # no memory request
    message = _status(fake, backend, Status.ERROR)
    assert re.fullmatch(
        rf'no replica can be created: pods "{IRIS}-[0-9a-f]+-[0-9a-f]+" is forbidden: failed '
        "quota: compute: must specify limits.memory for: predictor; requests.memory for: "
        "predictor", message), message
    assert fake.pods("cortex") == []
    events = [e for e in fake.store.list(by_kind("Event"))[0] if e["reason"] == "FailedCreate"]
    assert events and events[0]["type"] == "Warning"
    assert events[0]["message"].startswith("Error creating: pods ")
    assert events[0]["involvedObject"]["kind"] == "ReplicaSet"


def test_the_fake_refuses_a_plain_pod_in_a_restricted_namespace_as_a_real_server(
    fake: FakeKube, tmp_path: Path
) -> None:
    fake.harden_namespace("prod")
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
    api = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{
        "name": "main", "image": "nginx:1",
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }]}}
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(api).create_namespaced_pod("prod", pod)
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert message.startswith('pods "web" is forbidden: violates PodSecurity "restricted:latest": ')
    for part in ('allowPrivilegeEscalation != false (container "main" must set '
                 "securityContext.allowPrivilegeEscalation=false)",
                 "unrestricted capabilities", "runAsNonRoot != true", "seccompProfile"):
        assert part in message
    api.close()


def test_the_environment_turns_the_network_policy_and_the_pods_identity_on_and_off(
    fake: FakeKube, kube_env: Environment, iris: Path
) -> None:
    hardened = replace(kube_env, network_policy=True, service_account="cortex-predictor")
    with closing(KubernetesBackend(hardened)) as backend:
        backend.deploy(load_project(iris))
        policy = objects.read(backend.conn, "NetworkPolicy", IRIS)
        assert policy is not None and policy["spec"]["policyTypes"] == ["Ingress"]
        pod = objects.read(backend.conn, "Deployment", IRIS)["spec"]["template"]["spec"]
        assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == (
            "cortex-predictor", True)
    with closing(KubernetesBackend(kube_env)) as backend:
        change = backend.deploy(load_project(iris)).changes[0]
        assert change.action == "updated"
        assert objects.read(backend.conn, "NetworkPolicy", IRIS) is None
        pod = objects.read(backend.conn, "Deployment", IRIS)["spec"]["template"]["spec"]
        assert "serviceAccountName" not in pod and pod["automountServiceAccountToken"] is False
