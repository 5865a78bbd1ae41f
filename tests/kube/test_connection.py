"""Reaching the cluster: bounded waits and plain words when it does not answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import watch

from cortex_tui.errors import TargetUnavailable
from cortex_tui.kube import client as kube_client
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.settings import Environment
from tests.helpers.fakekube import FakeKube

ENV = Environment(name="fake", kind="kubernetes", context="fake")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel does, from the backlog) and never answers,
    like an API server behind a broken load balancer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def _kubeconfig_for(url: str, fake: FakeKube, tmp_path: Path) -> Path:
    path = fake.write_kubeconfig(tmp_path / "kubeconfig")
    path.write_text(path.read_text().replace(fake.url, url))
    return path


def test_a_cluster_that_never_answers_is_a_plain_error_not_a_hang(
    fake: FakeKube, silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube_client, "READ_TIMEOUT", 0.3)
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig_for(silent_server, fake, tmp_path)))
    backend = KubernetesBackend(ENV)
    try:
        with pytest.raises(TargetUnavailable) as raised:
            backend.get()
    finally:
        backend.close()
    assert str(raised.value) == (
        f"list Deployment: cannot reach the cluster at {silent_server}: connected, but no "
        "answer in time"
    )


def test_a_refused_connection_names_the_server_in_a_few_words(
    fake: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: refused
        monkeypatch.setenv("KUBECONFIG", str(_kubeconfig_for(url, fake, tmp_path)))
        backend = KubernetesBackend(ENV)
        try:
            with pytest.raises(TargetUnavailable) as raised:
                backend.get()
            with pytest.raises(TargetUnavailable) as predicted:
                backend.predict("some-api", {})
        finally:
            backend.close()
    assert str(raised.value) == (
        f"list Deployment: cannot reach the cluster at {url}: connection refused"
    )
    assert str(predicted.value) == f"cannot reach the cluster at {url}: connection refused"


def test_streams_are_not_cut_by_the_read_timeout(
    fake: FakeKube, backend: KubernetesBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube_client, "READ_TIMEOUT", 0.2)
    conn = backend.conn
    # A quiet watch: the server ends it after 1 s, longer than the read timeout.
    events = list(watch.Watch().stream(conn.core.list_namespaced_config_map, "default",
                                       timeout_seconds=1))
    assert events == []


def test_no_kubeconfig_at_all_says_so_and_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "config"
    monkeypatch.setenv("KUBECONFIG", str(missing))
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    backend = KubernetesBackend(Environment(name="lcoal", kind="kubernetes", context="lcoal"))
    with pytest.raises(TargetUnavailable) as raised:
        backend.get()
    assert str(raised.value) == (
        f'environment "lcoal": no kubeconfig at {missing} (set KUBECONFIG to yours; -e names a '
        "context of it, a named environment of settings.yaml, or local)"
    )


def test_a_failing_credential_plugin_is_named_with_its_error(
    fake: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "get-token"
    plugin.write_text("#!/bin/sh\necho 'Error: the SSO session has expired' >&2\nexit 255\n")
    plugin.chmod(0o755)
    path = fake.write_kubeconfig(tmp_path / "kubeconfig")
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin),
    }}
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(path))
    backend = KubernetesBackend(ENV)
    with pytest.raises(TargetUnavailable) as raised:
        backend.get()
    message = str(raised.value)
    assert message.startswith('environment "fake": the credential plugin (exec) of kubeconfig '
                              'context "fake" failed: exec: process returned 255.')
    assert "the SSO session has expired" in message
