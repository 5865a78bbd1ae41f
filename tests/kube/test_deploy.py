"""Deploy on Kubernetes: conflicts, size limits, S3 shipping, force, partial changes, errors."""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import os
import zipfile
from contextlib import closing
from pathlib import Path

import boto3
import pytest
import yaml

from cortex_tui.config import load_project
from cortex_tui.config.files import ProjectFilesError
from cortex_tui.errors import BackendError, TargetUnavailable
from cortex_tui.kube import objects
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.settings import AwsSettings, Environment
from cortex_tui.types import ScaleRequest, Status
from tests.helpers.fakekube import FakeKube
from tests.helpers.fakekube.resources import by_kind
from tests.helpers.project_files import add_hostile_files, add_outside_link
from tests.kube.conftest import IRIS, copy_example, edit_config


def test_conflicting_writers_are_retried(fake: FakeKube, backend: KubernetesBackend,
                                         iris: Path) -> None:
    backend.deploy(load_project(iris))
    fake.store.force_conflicts("deployments", 2)
    fake.clear_requests()
    result = backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 300m"))
    assert result.changes[0].action == "updated"
    deployment_puts = [s for m, p, s in fake.writes if m == "PUT" and "/deployments/" in p]
    # The two forced conflicts, maybe real ones too (the fake's controllers write status
    # between our read and our write, as a cluster does), then success.
    assert deployment_puts[-1] == 200 and set(deployment_puts[:-1]) == {409}
    assert len(deployment_puts) >= 3
    live = objects.read(backend.conn, "Deployment", IRIS)
    assert live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == (
        "300m")


def test_endless_conflicts_give_up_with_a_clear_error(fake: FakeKube, backend: KubernetesBackend,
                                                      iris: Path) -> None:
    backend.deploy(load_project(iris))
    fake.store.force_conflicts("deployments", 100)
    with pytest.raises(BackendError, match="still conflicting"):
        backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 300m"))


def test_a_project_too_large_for_a_configmap_is_refused_before_any_write(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    (iris / "weights.bin").write_bytes(os.urandom(1_100_000))
    fake.clear_requests()
    with pytest.raises(BackendError, match=r"too large to ship in a ConfigMap.*project_store"):
        backend.deploy(load_project(iris))
    assert fake.writes == []


def test_a_project_just_under_the_configmap_limit_ships_in_one(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    # The server counts the decoded bytes (base64 makes the request a third larger): 900 kB of
    # incompressible weights fit, as they would on a real cluster.
    (iris / "weights.bin").write_bytes(os.urandom(900_000))
    result = backend.deploy(load_project(iris))
    assert [(c.api, c.action) for c in result.changes] == [(IRIS, "created")]
    configmap = backend.conn.core.read_namespaced_config_map(f"{IRIS}-project", "cortex")
    assert len(base64.b64decode(configmap.binary_data["project.zip"])) > 900_000


def test_caches_and_vcs_folders_are_not_shipped(backend: KubernetesBackend, iris: Path) -> None:
    for junk in (".git/objects/big", "__pycache__/inference.cpython-311.pyc", ".venv/lib/x.py"):
        (iris / junk).parent.mkdir(parents=True, exist_ok=True)
        (iris / junk).write_bytes(b"junk")
    (iris / "helpers").mkdir()
    (iris / "helpers" / "util.py").write_text("X = 1\n")
    backend.deploy(load_project(iris))
    configmap = objects.read(backend.conn, "ConfigMap", f"{IRIS}-project")
    bundle = zipfile.ZipFile(io.BytesIO(base64.b64decode(configmap["binaryData"]["project.zip"])))
    assert sorted(bundle.namelist()) == [
        "README.md", "helpers/util.py", "inference.py", "iris.csv", "sample.json",
    ]
    shipped = yaml.safe_load(configmap["data"]["cortex.yaml"])
    assert [e["kind"] for e in shipped] == ["deployment", "api"]
    assert shipped[1]["name"] == IRIS


def test_editing_one_api_leaves_the_others_untouched(fake: FakeKube, backend: KubernetesBackend,
                                                     iris: Path) -> None:
    config = iris / "cortex.yaml"
    entries = yaml.safe_load(config.read_text())
    twin = dict(copy.deepcopy(entries[0]), name="iris-twin")
    config.write_text(yaml.safe_dump([*entries, twin], sort_keys=False))
    backend.deploy(load_project(iris))
    fake.clear_requests()
    result = backend.deploy(edit_config(iris, "max_replicas: 4", "max_replicas: 6"))
    assert [(c.api, c.action, c.message) for c in result.changes] == [
        (IRIS, "updated", "compute.max_replicas changed"),
        ("iris-twin", "unchanged", ""),
    ]
    done = [(m, p.split("/")[-1]) for m, p, status in fake.writes if status < 400]
    assert done == [("PUT", IRIS)]  # (a 409 from a controller's concurrent write is retried)
    assert "/horizontalpodautoscalers/" in fake.writes[0][1]  # bounds only touch the HPA


def test_force_restarts_an_unchanged_api(fake: FakeKube, backend: KubernetesBackend,
                                         iris: Path) -> None:
    project = load_project(iris)
    backend.deploy(project)
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE, message="live")
    first = {p["metadata"]["name"] for p in fake.pods("cortex")}
    result = backend.deploy(project, force=True)
    assert [(c.action, c.message) for c in result.changes] == [("updated", "restarted")]

    def replaced() -> bool:
        names = {p["metadata"]["name"] for p in fake.pods("cortex")}
        return bool(names) and not names & first and backend.get(IRIS)[0].status is Status.LIVE

    fake.wait_for(replaced, message="new pods")


def test_namespace_comes_from_the_context_and_is_created(
    fake: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = fake.write_kubeconfig(tmp_path / "kc", context="team", namespace="team-a")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    backend = KubernetesBackend(Environment(name="team", kind="kubernetes", context="team"))
    backend.deploy(load_project(copy_example("iris", tmp_path)))
    deployments, _ = fake.store.list(by_kind("Deployment"))
    assert [d["metadata"]["namespace"] for d in deployments] == ["team-a"]
    assert backend.target_info().namespace == "team-a"
    backend.close()


def test_an_unknown_context_or_unreachable_cluster_is_a_plain_error(
    fake: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iris: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fake.write_kubeconfig(tmp_path / "kc")))
    with pytest.raises(TargetUnavailable, match='no context "nope"'):
        KubernetesBackend(Environment(name="nope", kind="kubernetes", context="nope")).get()
    fake.stop()
    down = KubernetesBackend(Environment(name="fake", kind="kubernetes", context="fake"))
    with pytest.raises(TargetUnavailable, match="cannot reach the cluster"):
        down.get()


# ---------------------------------------------------------------------------------- S3
@pytest.fixture
def s3_env(moto_url: str, kube_env: Environment, monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Environment:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_CONFIG_FILE": str(tmp_path / "none"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket="models")
    return Environment(name="fake", kind="kubernetes", context="fake",
                       project_store="s3://models/cortex",
                       aws=AwsSettings(region="us-east-1", endpoint_url=moto_url))


def test_project_store_uploads_the_project_to_s3_once(
    fake: FakeKube, s3_env: Environment, iris: Path, moto_url: str
) -> None:
    (iris / "weights.bin").write_bytes(os.urandom(1_500_000))  # > a ConfigMap
    backend = KubernetesBackend(s3_env)
    project = load_project(iris)
    backend.deploy(project)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="models")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("cortex/iris/") and keys[0].endswith(".zip")
    body = s3.get_object(Bucket="models", Key=keys[0])["Body"].read()
    assert "weights.bin" in zipfile.ZipFile(io.BytesIO(body)).namelist()

    deployment = objects.read(backend.conn, "Deployment", IRIS)
    fetch = deployment["spec"]["template"]["spec"]["initContainers"][0]
    assert f"s3://models/{keys[0]}" in fetch["command"]
    assert fetch["args"] == ["--endpoint-url", moto_url]
    configmap = objects.read(backend.conn, "ConfigMap", f"{IRIS}-project")
    assert "binaryData" not in configmap or not configmap["binaryData"]

    fake.clear_requests()
    assert backend.deploy(project).changes[0].action == "unchanged"
    assert fake.writes == []
    assert len(s3.list_objects_v2(Bucket="models")["Contents"]) == 1
    fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE, message="live")
    backend.close()


def test_a_project_image_needs_neither_the_configmap_zip_nor_the_project_store(
    fake: FakeKube, s3_env: Environment, iris: Path, moto_url: str
) -> None:
    (iris / "weights.bin").write_bytes(os.urandom(1_500_000))  # > a ConfigMap
    project = edit_config(iris, "  name: iris-classifier\n",
                          "  name: iris-classifier\n  image: reg.example/iris:1\n")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket="images")  # moto's buckets outlive a test: one of its own
    environment = dataclasses.replace(s3_env, project_store="s3://images/cortex")
    with closing(KubernetesBackend(environment)) as backend:
        assert backend.deploy(project).changes[0].action == "created"
        assert "Contents" not in s3.list_objects_v2(Bucket="images")  # nothing uploaded
        pod = objects.read(backend.conn, "Deployment", IRIS)["spec"]["template"]["spec"]
        assert "initContainers" not in pod
        assert pod["containers"][0]["image"] == "reg.example/iris:1"
        fake.wait_for(lambda: backend.get(IRIS)[0].status is Status.LIVE, message="live")


def test_an_unreachable_project_store_fails_before_any_cluster_write(
    fake: FakeKube, s3_env: Environment, iris: Path
) -> None:
    broken = Environment(name="fake", kind="kubernetes", context="fake",
                         project_store="s3://no-such-bucket/x", aws=s3_env.aws)
    fake.clear_requests()
    with pytest.raises(BackendError, match="cannot upload the project to s3://no-such-bucket"):
        KubernetesBackend(broken).deploy(load_project(iris))
    assert fake.writes == []


def test_an_api_of_another_project_is_not_replaced(
    fake: FakeKube, backend: KubernetesBackend, iris: Path, tmp_path: Path
) -> None:
    backend.deploy(load_project(iris))
    other = copy_example("iris", tmp_path / "elsewhere")
    config = other / "cortex.yaml"
    config.write_text("- kind: deployment\n  name: other-team\n" + config.read_text())
    fake.clear_requests()
    with pytest.raises(BackendError, match=f'api "{IRIS}" already runs in namespace cortex for '
                       'the deployment "iris"'):
        backend.deploy(load_project(other))
    assert fake.writes == []


def test_deploying_the_bounds_scale_wrote_back_makes_no_write(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(load_project(iris))
    backend.scale(IRIS, ScaleRequest(min_replicas=2, max_replicas=3))
    edit_config(iris, "min_replicas: 1", "min_replicas: 2")  # what the TUI writes back
    project = edit_config(iris, "max_replicas: 4", "max_replicas: 3")
    fake.clear_requests()
    assert [c.action for c in backend.deploy(project).changes] == ["unchanged"]
    assert fake.writes == []


def test_without_rights_on_namespaces_deploy_uses_the_existing_one(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.forbidden.add("namespaces")
    assert backend.deploy(load_project(iris)).changes[0].action == "created"


def test_a_write_the_cluster_refuses_stops_the_deploy_before_any_write(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    fake.forbidden.add("create horizontalpodautoscalers")  # the last object of the API
    fake.clear_requests()
    with pytest.raises(BackendError, match='not allowed by the cluster: horizontalpodautoscalers '
                       'is forbidden: User "fake" cannot create resource'):
        backend.deploy(load_project(iris))
    assert fake.writes == []  # the server's dry run refused it before the ConfigMap was written
    dry_runs = [p for m, p, _ in fake.requests if "dryRun=All" in p]
    assert len(dry_runs) == 4


def test_an_object_the_server_finds_invalid_stops_the_deploy_before_any_write(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    project = load_project(iris)
    backend.deploy(project)
    # Someone recreated the Deployment by hand with another selector: our update would change
    # an immutable field, which the server refuses (422).
    deployments = by_kind("Deployment")
    by_hand = fake.store.get(deployments, "cortex", IRIS)
    fake.store.delete(deployments, "cortex", IRIS)
    by_hand["spec"]["selector"]["matchLabels"]["extra"] = "x"
    by_hand["spec"]["template"]["metadata"]["labels"]["extra"] = "x"
    fake.store.create(deployments, "cortex", by_hand)
    fake.clear_requests()
    with pytest.raises(BackendError, match=r"refused Deployment iris-classifier: .*immutable"):
        backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 300m"))
    assert fake.writes == []


def test_an_update_keeps_labels_and_annotations_other_tools_added(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    backend.deploy(load_project(iris))

    def tag(obj: dict) -> None:
        obj["metadata"].setdefault("annotations", {})["argocd.argoproj.io/tracking-id"] = "x"
        obj["metadata"]["labels"]["team"] = "ml"

    fake.store.mutate(by_kind("Deployment"), "cortex", IRIS, tag)
    backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 300m"))
    live = objects.read(backend.conn, "Deployment", IRIS)
    assert live["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == "x"
    assert live["metadata"]["labels"]["team"] == "ml"
    assert live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == (
        "300m")


def test_an_object_of_the_same_name_not_made_by_cortex_is_left_alone(
    fake: FakeKube, backend: KubernetesBackend, iris: Path
) -> None:
    core = backend.conn.core
    theirs = {"metadata": {"name": IRIS, "labels": {"team": "web"}},
              "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    core.create_namespaced_service("cortex", theirs)
    fake.clear_requests()
    with pytest.raises(BackendError, match=f"Service {IRIS} already exists in namespace cortex "
                       "and was not made by cortex-tui"):
        backend.deploy(load_project(iris))
    assert fake.writes == []
    service = core.read_namespaced_service(IRIS, "cortex")
    assert service.spec.selector == {"app": "web"}


def test_secrets_stay_home_and_a_link_out_of_the_project_is_refused(
        fake: FakeKube, backend: KubernetesBackend, iris: Path, tmp_path: Path) -> None:
    add_hostile_files(iris)
    backend.deploy(load_project(iris))
    configmap = objects.read(backend.conn, "ConfigMap", f"{IRIS}-project")
    bundle = zipfile.ZipFile(io.BytesIO(base64.b64decode(configmap["binaryData"]["project.zip"])))
    names = set(bundle.namelist())
    assert {"linked_pkg/util.py", "linked.py", ".env.example"} <= names
    assert not names & {".env", ".netrc", ".aws/credentials", ".ssh/id_rsa", "data.csv"}
    link = add_outside_link(iris, tmp_path / "shadow")
    fake.clear_requests()
    with pytest.raises(ProjectFilesError, match=f"{link}: a link to .*outside the project"):
        backend.deploy(edit_config(iris, "cpu: 200m", "cpu: 300m"))
    assert fake.writes == []
