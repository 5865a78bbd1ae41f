"""`deploy` says what changed per API, and does only that."""

from __future__ import annotations

from pathlib import Path

from tests.local.conftest import Local, wait_for

API = """- kind: api
  name: {name}
  python:
    inference: inference.py
  compute:
    cpu: {cpu}
"""


def test_deploy_reports_created_updated_unchanged_deleted(local: Local, tmp_path: Path) -> None:
    root = tmp_path / "two"
    root.mkdir()
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return sample\n")
    (root / "cortex.yaml").write_text(API.format(name="alpha", cpu="100m")
                                      + API.format(name="beta", cpu="100m"))
    first = local.cli("deploy", "-p", str(root))
    assert first.returncode == 0, first.stderr
    assert "creating alpha api" in first.stdout and "creating beta api" in first.stdout
    local.wait_status("beta", "live", available=1)

    (root / "cortex.yaml").write_text(API.format(name="alpha", cpu="150m"))
    second = local.cli("deploy", "-p", str(root))
    assert second.stdout.splitlines()[:2] == [
        "updating alpha api (compute.cpu changed)", "deleting beta api"]
    wait_for(lambda: [s.name for s in local.backend.get()] == ["alpha"], 10, "beta gone")
    local.wait_status("alpha", "live", available=1, up_to_date=1)
    wait_for(lambda: not local.replica_pids("beta"), 20, "beta's replicas stopped")

    # autoscaling bounds change in place, like patching an HPA: no replica restarts
    pids = wait_for(lambda: len(local.replica_pids("alpha")) == 1 and local.replica_pids("alpha"),
                    20, "the old alpha replica drained")
    (root / "cortex.yaml").write_text(API.format(name="alpha", cpu="150m")
                                      + "    max_replicas: 7\n")
    bounds = local.cli("deploy", "-p", str(root))
    assert bounds.stdout.splitlines()[0] == "updating alpha api (compute.max_replicas changed)"
    assert local.state_of("alpha").max_replicas == 7
    assert local.replica_pids("alpha") == pids

    forced = local.cli("deploy", "-p", str(root), "--force")
    assert "updating alpha api (redeployed)" in forced.stdout
    unchanged = local.cli("deploy", "-p", str(root))
    assert unchanged.stdout.splitlines()[0] == "alpha api is up to date"

    broken = local.cli("deploy", "-p", str(tmp_path / "nowhere"))
    assert broken.returncode == 1 and broken.stderr and "Traceback" not in broken.stderr


def test_a_config_file_with_another_name_deploys(local: Local, tmp_path: Path) -> None:
    root = tmp_path / "named"
    root.mkdir()
    # a helper module named like ours must not shadow the predictor
    (root / "predictor.py").write_text("raise SystemExit('the project shadowed the predictor')\n")
    (root / "inference.py").write_text("def predict(sample, metadata):\n    return sample\n")
    (root / "serving.yaml").write_text(API.format(name="gamma", cpu="100m"))
    out = local.cli("deploy", "-p", str(root / "serving.yaml"))
    assert out.returncode == 0, out.stderr
    local.wait_status("gamma", "live", available=1)
