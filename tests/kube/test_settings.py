"""`$CORTEX_TUI_HOME/settings.yaml`: named environments, and plain errors naming file, line and
key when the file is wrong (never a traceback from deep inside the client)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex_tui.cli import main
from cortex_tui.settings import AwsSettings, Environment, SettingsError, environments, resolve

GOOD = """\
environments:
  prod:
    context: my-eks
    namespace: ml
    image: registry.example/predictor:1
    project_store: s3://models/cortex
    aws:
      region: us-west-2
      node_groups: [eks-cpu, eks-gpu]
      cloudwatch_namespace: cortex
  staging: {}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_named_environments_are_read(tmp_path: Path) -> None:
    envs = environments(_write(tmp_path, GOOD))
    assert envs["prod"] == Environment(
        name="prod", kind="kubernetes", context="my-eks", namespace="ml",
        image="registry.example/predictor:1", project_store="s3://models/cortex",
        aws=AwsSettings(region="us-west-2", node_groups=("eks-cpu", "eks-gpu"),
                        cloudwatch_namespace="cortex"),
    )
    assert envs["staging"] == Environment(name="staging", kind="kubernetes", context="staging")


@pytest.mark.parametrize(("text", "message"), [
    ("environments:\n  prod:\n    namespace: 123\n",
     ":3:16: environments.prod.namespace: must be a non-empty string (got 123)"),
    ("environments:\n  prod:\n    namespace: Team_A\n",
     ":3:16: environments.prod.namespace: must be a Kubernetes namespace name"),
    ("environments:\n  prod:\n    context: [a, b]\n",
     ":3:14: environments.prod.context: must be a non-empty string (got ['a', 'b'])"),
    ("environments:\n  prod:\n    image: ''\n",
     ":3:12: environments.prod.image: must be a non-empty string (got '')"),
    ("environments:\n  prod:\n    project_store: models/cortex\n",
     ":3:20: environments.prod.project_store: must look like s3://bucket/prefix"),
    ("environments:\n  prod:\n    contxt: my-eks\n",
     ":3:5: environments.prod.contxt: unknown key (known: aws, context, image, namespace, "
     "network_policy, project_store, service_account)"),
    ("environments:\n  prod:\n    service_account: Not_A_Name\n",
     ":3:22: environments.prod.service_account: must be a Kubernetes ServiceAccount name"),
    ("environments:\n  prod:\n    network_policy: yes please\n",
     ":3:21: environments.prod.network_policy: must be true or false (got 'yes please')"),
    ("environments:\n  local:\n    context: my-eks\n",
     ':2:3: environments.local: "local" is the built-in local target'),
    ("environments:\n  prod:\n    aws:\n      region: 5\n",
     ":4:15: environments.prod.aws.region: must be a non-empty string (got 5)"),
    ("environment:\n  prod: {}\n", ":1:1: environment: unknown key (known: environments)"),
    ("environments:\n  prod: {\n", ":3:1: YAML syntax error: "),
])
def test_a_wrong_settings_file_names_file_line_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        environments(path)
    assert str(raised.value).startswith(f"{path}{message}")


def test_the_cli_shows_a_settings_error_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path))
    path = _write(tmp_path, "environments:\n  prod:\n    context: fake\n    namespace: 123\n")
    assert main(["get", "-e", "prod"]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {path}:4:16: environments.prod.namespace: must be a non-empty "
                   "string (got 123)\n")


def test_local_and_unknown_names_need_no_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path))
    assert resolve(None).kind == "local"
    assert resolve("my-context") == Environment(name="my-context", kind="kubernetes",
                                                context="my-context")
