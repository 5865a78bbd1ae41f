"""CloudWatch on a Kubernetes environment, end to end: the rendered Deployment carries the
publisher's settings, a real replica with exactly those settings answers predictions sent
through the (fake) API server's service proxy and publishes to CloudWatch (moto), and
`get API` / metrics read the totals back after the replica is gone."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cortex_tui.aws.cloudwatch_reader import CloudWatchReader
from cortex_tui.backends import get_backend
from cortex_tui.cli import main
from cortex_tui.types import Status
from tests.aws.conftest import REGION, aws_settings, write_settings
from tests.aws.replica import SAMPLES, Replica, wait_for
from tests.helpers.examples import copy_example
from tests.helpers.fakekube import FakeKube
from tests.helpers.fakekube.resources import by_kind

API = "iris-classifier"
NAMESPACE = "cortex-kube"


@pytest.fixture
def fake(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    server = FakeKube().start()
    try:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context="prod")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        write_settings(Path(os.environ["CORTEX_TUI_HOME"]), "prod", {
            "region": REGION, "endpoint_url": aws_env, "cloudwatch_namespace": NAMESPACE,
        })
        yield server
    finally:
        server.stop()


def pod_env(fake: FakeKube) -> dict[str, str]:
    deployment = fake.store.get(by_kind("Deployment"), "cortex", API)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_history_published_by_replicas_outlives_them(
    fake: FakeKube, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_example("iris", tmp_path)
    assert main(["deploy", "-p", str(root), "-e", "prod"]) == 0
    capsys.readouterr()
    env = pod_env(fake)
    assert env["CORTEX_CLOUDWATCH_NAMESPACE"] == NAMESPACE
    assert (env["AWS_REGION"], env["CORTEX_CLOUDWATCH_ENDPOINT"]) == (REGION, aws_env)

    cloudwatch = {k: v for k, v in env.items() if k.startswith(("CORTEX_CLOUDWATCH", "AWS_"))}
    replica = Replica(cloudwatch, tmp_path / "replica.log")
    try:
        replica.wait_ready()
        fake.route({"app.kubernetes.io/name": API}, replica.port)
        backend = get_backend("prod")
        wait_for(lambda: backend.get(API)[0].status is Status.LIVE, what="api live")
        labels = []
        for sample in SAMPLES + SAMPLES[:1]:
            result = backend.predict(API, sample)
            assert result.status == 200, result.body
            labels.append(result.body["label"])
        reader = CloudWatchReader(aws_settings(aws_env, cloudwatch_namespace=NAMESPACE))
        wait_for(lambda: reader.totals(API)[0].total == 4, what="metrics in CloudWatch")
        backend.close()
    finally:
        replica.stop()  # the replica is gone: live /stats answer nothing now

    assert main(["get", API, "-e", "prod", "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    shown = shown[0] if isinstance(shown, list) else shown
    assert (shown["network_stats"]["total"], shown["network_stats"]["code_2xx"]) == (4, 4)

    fresh = get_backend("prod")
    try:
        state = fresh.get(API)[0]
        assert (state.network.total, state.network.code_2xx) == (4, 4)
        assert state.tracker is not None
        assert dict(state.tracker.class_distribution or {}) == {
            label: labels.count(label) for label in set(labels)
        }
        metrics = fresh.metrics(API)
        assert (metrics.network.total, metrics.network.code_2xx) == (4, 4)
    finally:
        fresh.close()


def test_no_cloudwatch_settings_no_publisher_env(
    fake: FakeKube, tmp_path: Path
) -> None:
    write_settings(Path(os.environ["CORTEX_TUI_HOME"]), "prod", {"region": REGION})
    root = copy_example("iris", tmp_path)
    assert main(["deploy", "-p", str(root), "-e", "prod"]) == 0
    assert not [k for k in pod_env(fake) if "CLOUDWATCH" in k]
