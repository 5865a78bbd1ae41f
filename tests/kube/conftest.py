"""Fixtures of the Kubernetes target's tests: the fake API server (tests/helpers/fakekube), a
kubeconfig pointing at it, a backend, copies of the examples and real predictor processes.

With `CORTEX_TUI_E2E_KUBECONFIG` naming a kubeconfig, the `cluster` fixture also runs the
end-to-end tests against that real cluster (image: `CORTEX_TUI_E2E_IMAGE`; a throw-away
namespace is created and deleted).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from cortex_tui.config import load_project
from cortex_tui.config.model import Project
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.settings import Environment
from tests.helpers.examples import copy_example
from tests.helpers.fakekube import FakeKube
from tests.helpers.predictor_process import Predictor

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
E2E_KUBECONFIG = os.environ.get("CORTEX_TUI_E2E_KUBECONFIG")
IRIS = "iris-classifier"
HOUSING = "housing-regressor"
IRIS_SAMPLE = {"sepal_length": 5.2, "sepal_width": 3.6, "petal_length": 1.4, "petal_width": 0.3}


def edit_config(root: Path, old: str, new: str) -> Project:
    config = root / "cortex.yaml"
    text = config.read_text()
    assert old in text, f"{old!r} not in {config}"
    config.write_text(text.replace(old, new, 1))
    return load_project(root)


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    server = FakeKube().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kube_env(fake: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    """Deploy tests run in a hardened namespace (Pod Security restricted, a ResourceQuota):
    what cortex-tui renders must be admitted there as on a plain cluster."""
    fake.harden_namespace("cortex")
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig", context="fake")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    return Environment(name="fake", kind="kubernetes", context="fake")


@pytest.fixture
def backend(kube_env: Environment) -> Iterator[KubernetesBackend]:
    instance = KubernetesBackend(kube_env)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    return copy_example("iris", tmp_path)


@pytest.fixture
def predictors() -> Iterator[list[Predictor]]:
    """Real predictor processes started by a test; killed whatever happens."""
    started: list[Predictor] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


def serve_api(fake: FakeKube, predictors: list[Predictor], root: Path, api: str) -> Predictor:
    """Run the API for real on 127.0.0.1 and route the fake's proxy for its pods to it."""
    process = Predictor(root, api=api).wait_ready()
    predictors.append(process)
    assert process.port is not None
    fake.route({"app.kubernetes.io/name": api}, process.port)
    return process


@dataclass
class Cluster:
    """Where end-to-end tests run: the fake (steerable) or a real cluster."""

    backend: KubernetesBackend
    fake: FakeKube | None
    predictors: list[Predictor]

    def serve(self, root: Path, api: str) -> None:
        if self.fake is not None:  # a real cluster runs the image; the fake needs a process
            serve_api(self.fake, self.predictors, root, api)

    @property
    def timeout(self) -> float:
        return 15.0 if self.fake is not None else 300.0


def _real_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    if not E2E_KUBECONFIG:
        pytest.skip("set CORTEX_TUI_E2E_KUBECONFIG to run against a real cluster")
    monkeypatch.setenv("KUBECONFIG", E2E_KUBECONFIG)
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    namespace = f"cortex-e2e-{uuid.uuid4().hex[:6]}"
    environment = Environment(name="e2e", kind="kubernetes", context=None, namespace=namespace,
                              image=os.environ.get("CORTEX_TUI_E2E_IMAGE"))
    backend = KubernetesBackend(environment)
    try:
        yield Cluster(backend, None, [])
    finally:
        with contextlib.suppress(Exception):  # the answer's shape varies with the version
            backend.conn.core.delete_namespace(namespace)
        backend.close()


@pytest.fixture(params=["fake", "real"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            predictors: list[Predictor]) -> Iterator[Cluster]:
    if request.param == "real":
        yield from _real_cluster(tmp_path, monkeypatch)
        return
    server = FakeKube().start()
    server.harden_namespace("cortex")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context="fake")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    backend = KubernetesBackend(Environment(name="fake", kind="kubernetes", context="fake"))
    try:
        yield Cluster(backend, server, predictors)
    finally:
        backend.close()
        server.stop()


FAKE_NS = "cortex"


@pytest.fixture
def api(fake: FakeKube, tmp_path: Path) -> Iterator[client.ApiClient]:
    """A raw client of the fake API server, with the namespace the fake's own tests use."""
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
    api_client = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": FAKE_NS}})
    yield api_client
    api_client.close()
