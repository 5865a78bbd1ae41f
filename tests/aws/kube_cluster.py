"""An AWS-backed cluster for tests: moto Auto Scaling groups whose instances are the nodes of
the shared fake Kubernetes API (tests/helpers/fakekube), linked by `spec.providerID` as on EKS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws.conftest import REGION, make_group
from tests.helpers.fakekube import FakeKube
from tests.helpers.fakekube.resources import by_kind

NODE = by_kind("Node")
POD = by_kind("Pod")
CLUSTER_TAG = "k8s.io/cluster-autoscaler/prod"


def add_aws_node(fake: FakeKube, name: str, instance_id: str, instance_type: str,
                 cpu: str = "2", memory: str = "8Gi", gpu: int = 0) -> None:
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpu:
        allocatable["nvidia.com/gpu"] = str(gpu)
    fake.store.create(NODE, "", {
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "node.kubernetes.io/instance-type": instance_type,
        }},
        "spec": {"providerID": f"aws:///{REGION}a/{instance_id}"},
        "status": {
            "capacity": allocatable, "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    })


def add_big_pod(fake: FakeKube, name: str, api: str, cpu: str, namespace: str = "cortex"
                ) -> None:
    """A pod no node can hold: the fake's scheduler marks it Unschedulable."""
    namespaces = by_kind("Namespace")
    if fake.store.find(namespaces, "", namespace) is None:
        fake.store.create(namespaces, "", {"metadata": {"name": namespace}})
    fake.store.create(POD, namespace, {
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": api}},
        "spec": {"containers": [{"name": "predictor", "image": "predictor:test",
                                 "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]},
    })


def _instances(url: str, group: str) -> list[tuple[str, str]]:
    client = boto3.client("autoscaling", region_name=REGION, endpoint_url=url)
    found = client.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    instances = found["AutoScalingGroups"][0]["Instances"]
    return [(i["InstanceId"], i["InstanceType"]) for i in instances]


@contextmanager
def aws_cluster(moto_url: str, home: Path, kubeconfig: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    """Environment `prod`: node groups prod-cpu (2 x m5.large) and prod-gpu (1 x g4dn.xlarge)
    found by tag, their instances registered as nodes, plus one node of no group."""
    make_group(moto_url, "prod-cpu", size=(1, 2, 4), tags={CLUSTER_TAG: "owned"})
    make_group(moto_url, "prod-gpu", size=(0, 1, 2), instance_type="g4dn.xlarge",
               tags={CLUSTER_TAG: "owned"})
    fake = FakeKube()
    for index, (instance, kind) in enumerate(_instances(moto_url, "prod-cpu")):
        add_aws_node(fake, f"ip-10-0-1-{index + 1}", instance, kind)
    for instance, kind in _instances(moto_url, "prod-gpu"):
        add_aws_node(fake, "ip-10-0-2-1", instance, kind, cpu="4", memory="16Gi", gpu=1)
    fake.add_node("control-plane", cpu="1", memory="2Gi")
    fake.start()
    try:
        fake.write_kubeconfig(kubeconfig, context="prod-eks", namespace="cortex")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        home.mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {"environments": {"prod": {
            "context": "prod-eks",
            "aws": {"region": REGION, "endpoint_url": moto_url, "node_group_tag": CLUSTER_TAG},
        }}}
        (home / "settings.yaml").write_text(json.dumps(settings), encoding="utf-8")
        yield fake
    finally:
        fake.stop()
