"""The fake's streaming endpoints with the unmodified client: watch (timeouts, 410 Gone), pod
logs (tail, previous, follow), and the service / pod proxy to a real local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.helpers.fakekube import FakeKube

NS = "cortex"


def test_watch_replays_changes_from_a_version_and_ends_at_its_timeout(
    api: client.ApiClient,
) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, {"metadata": {"name": "a", "labels": {"k": "v"}}})
    core.create_namespaced_config_map(NS, {"metadata": {"name": "other"}})
    core.patch_namespaced_config_map("a", NS, {"data": {"x": "1"}})
    core.delete_namespaced_config_map("a", NS)
    seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        core.list_namespaced_config_map, NS, label_selector="k=v", resource_version=start,
        timeout_seconds=1)]
    assert seen == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_watch_without_a_version_lists_first_then_follows(
    api: client.ApiClient, fake: FakeKube
) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(NS, {"metadata": {"name": "before"}})
    events: list[tuple[str, str]] = []
    stream = watch.Watch()

    def consume() -> None:
        for event in stream.stream(core.list_namespaced_config_map, NS, timeout_seconds=5):
            events.append((event["type"], event["object"].metadata.name))
            if event["object"].metadata.name == "after":
                stream.stop()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    fake.wait_for(lambda: events, message="the initial ADDED")
    core.create_namespaced_config_map(NS, {"metadata": {"name": "after"}})
    reader.join(5)
    assert events == [("ADDED", "before"), ("ADDED", "after")]


def test_a_watch_from_a_compacted_version_gets_410_gone(
    api: client.ApiClient, fake: FakeKube
) -> None:
    core = client.CoreV1Api(api)
    old = core.create_namespaced_config_map(NS, {"metadata": {"name": "a"}}).metadata
    core.patch_namespaced_config_map("a", NS, {"data": {"x": "1"}})
    fake.store.compact()
    with pytest.raises(ApiException) as gone:
        list(watch.Watch().stream(core.list_namespaced_config_map, NS,
                                  resource_version=old.resource_version, timeout_seconds=1))
    assert gone.value.status == 410


def _pod(core: client.CoreV1Api, name: str = "p") -> None:
    core.create_namespaced_pod(NS, {"metadata": {"name": name}, "spec": {
        "containers": [{"name": "predictor", "image": "i"}]}})


def test_pod_logs_tail_previous_and_follow(api: client.ApiClient, fake: FakeKube) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(NS, {"metadata": {"name": "big"}, "spec": {"containers": [
        {"name": "predictor", "image": "i", "resources": {"requests": {"cpu": "100"}}}]}})
    with pytest.raises(ApiException) as waiting:
        core.read_namespaced_pod_log("big", NS)  # never scheduled: no container to read
    assert waiting.value.status == 400 and "waiting to start" in waiting.value.body
    _pod(core)
    fake.wait_for(lambda: all(p["spec"].get("nodeName") for p in fake.pods(NS)
                              if p["metadata"]["name"] == "p"), message="scheduled")
    fake.write_log(NS, "p", "one\ntwo\nthree")
    assert core.read_namespaced_pod_log("p", NS, tail_lines=2) == "two\nthree\n"
    stamped = core.read_namespaced_pod_log("p", NS, timestamps=True).splitlines()
    assert stamped[-1].endswith("Z three")

    fake.logs.restart(NS, "p", "predictor")
    fake.write_log(NS, "p", "second life")
    assert core.read_namespaced_pod_log("p", NS) == "second life\n"
    assert core.read_namespaced_pod_log("p", NS, previous=True).endswith("three\n")

    response = core.read_namespaced_pod_log("p", NS, follow=True, _preload_content=False)
    got: list[bytes] = []

    def read() -> None:
        for chunk in response.stream(64):
            got.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    fake.write_log(NS, "p", "live line")
    fake.wait_for(lambda: b"live line" in b"".join(got), message="the followed line")
    fake.logs.restart(NS, "p", "predictor")  # a restart ends the stream, as kubectl sees it
    reader.join(5)
    assert not reader.is_alive()
    assert b"".join(got) == b"second life\nlive line\n"


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = json.dumps({"path": self.path, "body": json.loads(body or "null")}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_service_and_pod_proxy_reach_a_real_local_server(
    api: client.ApiClient, fake: FakeKube, echo_port: int
) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_service(NS, {"metadata": {"name": "svc"}, "spec": {
        "selector": {"app": "echo"}, "ports": [{"name": "http", "port": 8888}]}})
    path = "/api/v1/namespaces/cortex/services/svc:http/proxy/predict"

    def post(url: str) -> tuple[int, object]:
        _, full, headers, _, _ = api.param_serialize("POST", url, header_params={
            "Content-Type": "application/json"}, query_params=[("debug", "true")],
            auth_settings=["BearerToken"])
        response = api.call_api("POST", full, header_params=headers, body={"x": 1})
        return response.status, json.loads(response.read())

    status, body = post(path)
    assert status == 503 and body["message"] == 'no endpoints available for service "svc:http"'
    core.create_namespaced_pod(NS, {"metadata": {"name": "echo-1", "labels": {"app": "echo"}},
                                    "spec": {"containers": [{"name": "c", "image": "i"}]}})
    fake.route({"app": "echo"}, echo_port)
    fake.wait_for(lambda: any(c["type"] == "Ready" and c["status"] == "True" for c in
                              fake.pods(NS)[0].get("status", {}).get("conditions", [])),
                  message="the pod to be ready")
    assert post(path) == (201, {"path": "/predict?debug=true", "body": {"x": 1}})
    answer = core.connect_get_namespaced_pod_proxy_with_path("echo-1:8888", NS, "stats")
    assert "/stats" in str(answer)
