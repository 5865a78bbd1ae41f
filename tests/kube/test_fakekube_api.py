"""The fake API server answers the unmodified kubernetes client like the real one does:
Status bodies, resourceVersion, the three patch flavours, subresources, selectors, deletes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.helpers.fakekube import FakeKube

NS = "cortex"


def deployment(name: str = "web", replicas: int = 1, image: str = "img:1") -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "main", "image": image,
                      "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                     {"name": "sidecar", "image": "side:1"},
                 ]}}},
    }


def status_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_errors_carry_status_bodies_with_real_reasons(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("nope", NS)
    assert missing.value.status == 404
    assert status_of(missing.value) | {"details": None} == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "nope" not found', "reason": "NotFound", "code": 404,
        "details": None,
    }
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    with pytest.raises(ApiException) as exists:
        apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    assert (exists.value.status, status_of(exists.value)["reason"]) == (409, "AlreadyExists")

    broken = deployment("broken")
    broken["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(broken))
    body = status_of(invalid.value)
    assert (invalid.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.template.metadata.labels"

    with pytest.raises(ApiException) as no_namespace:
        apps.create_namespaced_deployment("nowhere", client.V1Deployment.from_dict(deployment()))
    assert status_of(no_namespace.value)["message"] == 'namespaces "nowhere" not found'


def test_resource_versions_and_optimistic_concurrency(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_config_map(NS, {"metadata": {"name": "c"},
                                                     "data": {"a": "1"}})
    stale = created.metadata.resource_version
    updated = core.replace_namespaced_config_map("c", NS, {
        "metadata": {"name": "c", "resourceVersion": stale}, "data": {"a": "2"}})
    assert int(updated.metadata.resource_version) > int(stale)
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("c", NS, {
            "metadata": {"name": "c", "resourceVersion": stale}, "data": {"a": "3"}})
    assert (conflict.value.status, status_of(conflict.value)["reason"]) == (409, "Conflict")
    same = core.replace_namespaced_config_map("c", NS, {"metadata": {"name": "c"},
                                                        "data": {"a": "2"}})
    assert same.metadata.resource_version == updated.metadata.resource_version  # no-op


def test_strategic_merge_patch_merges_containers_by_name(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    patched = apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {
        "containers": [{"name": "main", "resources": {"requests": {"cpu": "1"}}}]}}}})
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert containers["main"].image == "img:1"  # kept: merged by name, not replaced
    assert containers["main"].resources.requests == {"cpu": "1", "memory": "64Mi"}
    assert containers["sidecar"].image == "side:1"
    assert patched.metadata.generation == 2

    removed = apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "$patch": "delete"}]}}}})
    assert [c.name for c in removed.spec.template.spec.containers] == ["main"]


def test_merge_patch_and_json_patch(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    merged = apps.patch_namespaced_deployment(
        "web", NS, {"metadata": {"labels": {"tier": "gold", "app": None}}},
        _content_type="application/merge-patch+json")
    assert merged.metadata.labels == {"tier": "gold"}
    jsonpatched = apps.patch_namespaced_deployment("web", NS, [  # a list body: JSON patch
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/x", "value": "y"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ])
    assert jsonpatched.spec.replicas == 3 and jsonpatched.metadata.labels["x"] == "y"
    assert len(jsonpatched.spec.template.spec.containers) == 1
    with pytest.raises(ApiException) as failed:
        apps.patch_namespaced_deployment("web", NS, [
            {"op": "test", "path": "/spec/replicas", "value": 9}])
    assert failed.value.status == 422


def test_status_and_scale_subresources(api: client.ApiClient, fake: FakeKube) -> None:
    net = client.NetworkingV1Api(api)  # no controller of the fake writes Ingresses
    spec = {"defaultBackend": {"service": {"name": "svc", "port": {"number": 80}}}}
    created = net.create_namespaced_ingress(NS, {"metadata": {"name": "i"}, "spec": spec,
                                                 "status": {"loadBalancer": {"ingress": [
                                                     {"ip": "1.1.1.1"}]}}})
    assert created.status is None or not created.status.load_balancer
    net.patch_namespaced_ingress_status("i", NS, {
        "status": {"loadBalancer": {"ingress": [{"ip": "2.2.2.2"}]}},
        "spec": {"ingressClassName": "ignored"}})
    again = net.read_namespaced_ingress("i", NS)
    assert again.status.load_balancer.ingress[0].ip == "2.2.2.2"
    assert again.spec.ingress_class_name is None  # the status subresource writes status only
    net.patch_namespaced_ingress("i", NS, {"status": {"loadBalancer": {}},
                                           "spec": {"ingressClassName": "nginx"}})
    again = net.read_namespaced_ingress("i", NS)
    assert (again.spec.ingress_class_name, again.status.load_balancer.ingress[0].ip) == (
        "nginx", "2.2.2.2")

    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    scale = apps.read_namespaced_deployment_scale("web", NS)
    assert (scale.spec.replicas, scale.status.selector) == (1, "app=web")
    apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("web", NS).spec.replicas == 4


def test_label_and_field_selectors(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db"}),
                         ("c", {"tier": "web", "env": "dev"})]:
        core.create_namespaced_config_map(NS, {"metadata": {"name": name, "labels": labels}})

    def names(**kwargs: str) -> list[str]:
        return [c.metadata.name for c in core.list_namespaced_config_map(NS, **kwargs).items]

    assert names(label_selector="tier=web") == ["a", "c"]
    assert names(label_selector="tier=web,env!=prod") == ["c"]
    assert names(label_selector="env in (prod, dev)") == ["a", "c"]
    assert names(label_selector="tier notin (web)") == ["b"]
    assert names(label_selector="!env") == ["b"]
    assert names(label_selector="env") == ["a", "c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    everywhere = client.CoreV1Api(api).list_config_map_for_all_namespaces(label_selector="tier")
    assert len(everywhere.items) == 3


def test_deletes_answer_as_client_37_expects(api: client.ApiClient, fake: FakeKube) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespaced_service(NS, {"metadata": {"name": "svc"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    deleted_service = core.delete_namespaced_service("svc", NS)
    assert isinstance(deleted_service, client.V1Service)
    assert deleted_service.spec.cluster_ip  # the object, with its allocated address

    core.create_namespaced_pod(NS, {"metadata": {"name": "p"}, "spec": {
        "nodeName": "node-1", "containers": [{"name": "c", "image": "i"}]}})
    deleted_pod = core.delete_namespaced_pod("p", NS)
    assert isinstance(deleted_pod, client.V1Pod)
    assert deleted_pod.metadata.deletion_timestamp is not None  # graceful: terminating first
    fake.wait_for(lambda: not fake.pods(NS), message="the pod to go")

    apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()))
    status = apps.delete_namespaced_deployment("web", NS)  # client 37 hands back the raw Status
    assert (status["kind"], status["status"]) == ("Status", "Success")


def test_dry_run_validates_without_persisting(api: client.ApiClient, fake: FakeKube) -> None:
    apps = client.AppsV1Api(api)
    answer = apps.create_namespaced_deployment(
        NS, client.V1Deployment.from_dict(deployment()), dry_run="All")
    assert answer.spec.strategy.type == "RollingUpdate"  # defaulted like a real create
    assert apps.list_namespaced_deployment(NS).items == []
    broken = deployment()
    broken["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(broken),
                                          dry_run="All")
    assert invalid.value.status == 422
    fake.forbidden.add("create deployments")
    with pytest.raises(ApiException) as forbidden:
        apps.create_namespaced_deployment(NS, client.V1Deployment.from_dict(deployment()),
                                          dry_run="All")
    assert status_of(forbidden.value)["reason"] == "Forbidden"
