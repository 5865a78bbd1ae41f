"""A real predictor process with CloudWatch on: metrics arrive in moto; with CloudWatch down,
predictions still succeed and the loss is logged with counts."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cortex_tui.aws.cloudwatch_reader import CloudWatchReader
from tests.aws.conftest import REGION, aws_settings
from tests.aws.replica import SAMPLES, Replica, cloudwatch_env, free_port, post, wait_for


@pytest.fixture
def start_replica(tmp_path: Path) -> Iterator[Callable[[str, str], Replica]]:
    started: list[Replica] = []

    def start(endpoint: str, namespace: str) -> Replica:
        env = cloudwatch_env(endpoint, namespace)
        replica = Replica(env, tmp_path / f"replica-{len(started)}.log")
        started.append(replica)
        replica.wait_ready()
        return replica

    yield start
    for replica in started:
        replica.stop()


def _predict_all(replica: Replica) -> list[str]:
    labels = []
    for sample in SAMPLES * 2:
        status, body = post(f"{replica.url}/predict", json.dumps(sample).encode())
        assert status == 200, body
        labels.append(body["label"])
    status, _ = post(f"{replica.url}/predict", b"{not json")
    assert status == 400
    return labels


def test_replica_publishes_requests_latency_and_classes(
    aws_env: str, start_replica: Callable[[str, str], Replica]
) -> None:
    replica = start_replica(aws_env, "cortex-e2e")
    labels = _predict_all(replica)
    reader = CloudWatchReader(aws_settings(aws_env, cloudwatch_namespace="cortex-e2e"))

    def arrived() -> Any:
        network, tracker = reader.totals("iris-classifier")
        return (network, tracker) if network.total == 7 and tracker else None

    network, tracker = wait_for(arrived, what="metrics in CloudWatch")
    assert (network.code_2xx, network.code_4xx, network.code_5xx) == (6, 1, 0)
    assert network.latency_ms is not None and network.latency_ms > 0
    expected = {label: labels.count(label) for label in set(labels)}
    assert dict(tracker.class_distribution or {}) == expected
    listed = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws_env).list_metrics(
        Namespace="cortex-e2e", MetricName="Replicas")["Metrics"]
    assert {d["Name"]: d["Value"] for d in listed[0]["Dimensions"]} == {
        "API": "iris-classifier", "Deployment": "iris"
    }


def test_cloudwatch_down_predictions_succeed_and_loss_is_logged(
    aws_env: str, start_replica: Callable[[str, str], Replica]
) -> None:
    replica = start_replica(f"http://127.0.0.1:{free_port()}", "cortex-down")
    _predict_all(replica)  # every prediction answered, as if CloudWatch were fine
    wait_for(lambda: "kept for retry" in replica.log.read_text(), what="the failure logged")
    output = replica.stop()
    assert replica.process.returncode == 0, output
    assert "PutMetricData to namespace cortex-down failed" in output
    assert "covering 7 requests) were never sent to namespace cortex-down" in output


def test_cloudwatch_that_never_answers_does_not_hold_predictions(
    aws_env: str, start_replica: Callable[[str, str], Replica]
) -> None:
    with socket.socket() as black_hole:  # accepts connections, never answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        port = black_hole.getsockname()[1]
        black_hole.settimeout(20)
        replica = start_replica(f"http://127.0.0.1:{port}", "cortex-slow")
        _predict_all(replica)
        connection, _ = black_hole.accept()  # the publisher now waits for an answer
        with connection:
            for _ in range(2):
                assert len(_predict_all(replica)) == 6
            output = replica.stop()
    assert replica.process.returncode == 0, output
    assert "covering 21 requests) were never sent to namespace cortex-slow" in output
