"""`-p` / `-e` work before or after the sub-command, as users type them either way."""

import pytest

from cortex_tui.cli import build_parser


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["get"], "local"),
        (["-e", "prod", "get"], "prod"),
        (["get", "-e", "prod"], "prod"),
        (["-e", "prod", "get", "-e", "staging"], "staging"),
        (["-e", "prod", "cluster", "info"], "prod"),
        (["-e", "prod"], "prod"),
    ],
)
def test_env_option_before_or_after_the_sub_command(argv: list[str], env: str) -> None:
    assert build_parser().parse_args(argv).env == env


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["deploy"], "."),
        (["-p", "examples/iris", "deploy"], "examples/iris"),
        (["deploy", "-p", "examples/iris"], "examples/iris"),
        (["-p", "examples/iris", "validate"], "examples/iris"),
    ],
)
def test_project_option_before_or_after_the_sub_command(argv: list[str], path: str) -> None:
    assert build_parser().parse_args(argv).path == path
