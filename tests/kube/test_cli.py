"""The generic sub-commands with `-e <kubernetes environment>`, against the fake API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cortex_tui.cli import main
from tests.helpers.fakekube import FakeKube
from tests.helpers.fakekube.resources import by_kind
from tests.helpers.predictor_process import Predictor, wait_until
from tests.kube.conftest import IRIS, REPO, serve_api


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _json_state(capsys: pytest.CaptureFixture[str]) -> dict:
    code, out, _ = cli(capsys, "get", IRIS, "-e", "fake", "-o", "json")
    assert code == 0
    return json.loads(out)


def test_deploy_get_predict_scale_logs_delete_with_a_kubernetes_environment(
    fake: FakeKube, kube_env: object, iris: Path, predictors: list[Predictor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_api(fake, predictors, iris, IRIS)
    code, out, _ = cli(capsys, "deploy", "-p", str(iris), "-e", "fake")
    assert code == 0 and f"creating {IRIS} api" in out
    wait_until(lambda: _json_state(capsys)["status"] == "live", 15, "live")

    code, out, _ = cli(capsys, "deploy", "-p", str(iris), "-e", "fake")
    assert (code, out.strip()) == (0, f"{IRIS} api is up to date")

    code, out, _ = cli(capsys, "get", "-e", "fake")
    assert code == 0 and IRIS in out and "live" in out

    code, out, _ = cli(capsys, "predict", IRIS, str(iris / "sample.json"), "-e", "fake")
    assert code == 0 and json.loads(out)["label"] == "setosa"

    code, out, err = cli(capsys, "scale", IRIS, "--min", "2", "--max", "3", "-e", "fake")
    assert code == 0, err
    state = _json_state(capsys)
    assert (state["min_replicas"], state["max_replicas"]) == (2, 3)

    code, _, err = cli(capsys, "scale", IRIS, "--min", "9", "-e", "fake")
    assert code == 1 and "min_replicas" in err and "Traceback" not in err

    code, out, _ = cli(capsys, "logs", IRIS, "-e", "fake")
    assert code == 0 and f"{IRIS}-" in out and "starting predictor" in out

    code, out, _ = cli(capsys, "delete", IRIS, "-e", "fake")
    assert code == 0 and IRIS in out

    def gone() -> bool:
        code, _, err = cli(capsys, "get", IRIS, "-e", "fake")
        return code == 1 and "not deployed" in err

    wait_until(gone, 15, "the api to be gone")


def test_a_subprocess_with_kubeconfig_from_the_environment(
    fake: FakeKube, tmp_path: Path, iris: Path
) -> None:
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig", context="staging",
                                       namespace="team")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "CORTEX_TUI_HOME": str(tmp_path / "h")}
    run = subprocess.run(
        [sys.executable, "-m", "cortex_tui", "deploy", "-p", str(iris), "-e", "staging"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert f"creating {IRIS} api" in run.stdout
    deployments, _ = fake.store.list(by_kind("Deployment"))
    assert [d["metadata"]["namespace"] for d in deployments] == ["team"]


def test_an_unknown_environment_is_a_one_line_error(
    kube_env: object, iris: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "deploy", "-p", str(iris), "-e", "production")
    assert code == 1
    assert err.startswith('error: environment "production": no context "production"')
    assert "Traceback" not in err


def test_render_writes_manifests_for_kubectl(
    iris: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "render", "-p", str(iris), "-o", str(tmp_path / "out"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{IRIS}.yaml", "namespace.yaml"
    ]
    code, out, _ = cli(capsys, "render", "-p", str(iris))
    assert code == 0 and "kind: HorizontalPodAutoscaler" in out


def test_render_says_when_plain_kubectl_apply_would_refuse_the_configmap(
    iris: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "render", "-p", str(iris), "-o", str(tmp_path / "small"))
    assert code == 0 and "server-side" not in err
    (iris / "weights.bin").write_bytes(os.urandom(300_000))
    code, _, err = cli(capsys, "render", "-p", str(iris), "-o", str(tmp_path / "big"))
    assert code == 0
    assert f"note: ConfigMap {IRIS}-project is over 256 KiB: apply it with `kubectl apply " \
        "--server-side`" in err


def test_what_the_cluster_refuses_or_fails_is_one_line_never_a_traceback(
    fake: FakeKube, kube_env: object, iris: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "deploy", "-p", str(iris), "-e", "fake")[0] == 0
    wait_until(lambda: fake.pods("cortex"), 15, "a pod")

    fake.forbidden.add("get pods")  # the pods' logs included
    for command in (["logs", IRIS], ["logs", "-f", IRIS]):
        code, _, err = cli(capsys, *command, "-e", "fake")
        assert code == 1, command
        assert err.startswith(f"error: read the log of pod {IRIS}-")
        assert err.rstrip().endswith(': pods is forbidden: User "fake" cannot get resource '
                                     '"pods" in API group "" in the namespace "cortex"')

    fake.forbidden.clear()
    fake.failing.add("list replicasets")
    code, _, err = cli(capsys, "get", "-e", "fake")
    assert (code, err) == (1, "error: the cluster answered 500 Internal Server Error: Internal "
                              "error occurred: etcdserver: request timed out\n")


def test_credentials_the_cluster_rejects_are_named_as_such(
    fake: FakeKube, kube_env: object, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.unauthorized = True
    code, _, err = cli(capsys, "get", "-e", "fake")
    assert (code, err) == (1, "error: list Deployment: the cluster does not accept your "
                              "credentials (401 Unauthorized): they may have expired; log in "
                              "again (e.g. refresh your kubeconfig's token)\n")
