"""Load tests on Kubernetes go through a port-forward opened with the kubernetes client (the
fake API server speaks the websocket port-forward protocol to the pod's real process), not
through the throttled service proxy, and only for the test's duration."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cortex_tui.config import load_project
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.loadtest.run import LoadTest
from cortex_tui.loadtest.samples import encode
from cortex_tui.loadtest.spec import LoadSpec
from cortex_tui.types import LoadTarget, Status
from tests.helpers.fakekube import FakeKube
from tests.helpers.predictor_process import Predictor
from tests.kube.conftest import IRIS, IRIS_SAMPLE, serve_api


def test_a_load_test_reaches_the_pods_through_a_port_forward(
    fake: FakeKube, backend: KubernetesBackend, iris: Path, predictors: list[Predictor]
) -> None:
    replica = serve_api(fake, predictors, iris, IRIS)
    backend.deploy(load_project(iris))
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE, message="live")
    before = replica.stats()["network_stats"]["total"]
    ports: list[int | None] = []
    real = backend.load_target

    @contextlib.contextmanager
    def spy(api: str) -> Iterator[LoadTarget]:  # notes the local port, checked closed after
        with real(api) as target:
            ports.append(urlsplit(target.url).port)
            yield target

    backend.load_target = spy  # type: ignore[method-assign]
    test = LoadTest(backend, IRIS, [encode(IRIS_SAMPLE)], LoadSpec(concurrency=2, duration=1),
                    target="fake", sample_source="sample")
    record = test.run()
    assert record.via == "port-forward to 1 pod"
    assert record.outcome is not None and record.requests > 5
    assert record.outcome.codes == {"2xx": record.requests}
    assert replica.stats()["network_stats"]["total"] - before == record.requests
    forwards = [r for r in fake.requests if "/portforward" in r[1]]
    assert len(forwards) == 2 and all(status == 101 for _, _, status in forwards)
    assert not [r for r in fake.requests if f"/services/{IRIS}" in r[1] and r[0] == "POST"]
    with pytest.raises(OSError):  # the forward ended with the test
        socket.create_connection(("127.0.0.1", ports[0] or 0), timeout=2)
