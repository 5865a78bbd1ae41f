"""Flags, environment variables and their defaults."""

from __future__ import annotations

import pytest

from predictor.options import parse_options


def test_environment_fills_what_flags_leave_out() -> None:
    opts = parse_options([], {
        "CORTEX_PROJECT": "/p", "CORTEX_API": "a", "CORTEX_HOST": "0.0.0.0",
        "CORTEX_PORT": "9000", "CORTEX_ADMIN_PORT": "9001", "CORTEX_REUSE_PORT": "true",
        "CORTEX_REPLICA": "r", "CORTEX_GRACE_SECONDS": "2.5",
    })
    assert (opts.project, opts.api, opts.host, opts.port) == ("/p", "a", "0.0.0.0", 9000)
    assert (opts.admin_port, opts.reuse_port, opts.replica) == (9001, True, "r")
    assert opts.grace_seconds == 2.5
    assert opts.termination_log is None


def test_defaults_and_kubernetes_termination_log() -> None:
    opts = parse_options(["--project", "p", "--api", "a"], {"KUBERNETES_SERVICE_HOST": "10.0.0.1"})
    assert (opts.host, opts.port, opts.admin_port, opts.reuse_port) == (
        "127.0.0.1", 8888, None, False)
    assert opts.grace_seconds == 30
    assert opts.termination_log == "/dev/termination-log"
    assert opts.replica  # hostname-pid


@pytest.mark.parametrize("argv, env, message", [
    (["--api", "a"], {}, "--project"),
    (["--project", "p"], {}, "--api"),
    (["--project", "p", "--api", "a", "--port", "70000"], {}, "port out of range"),
    (["--project", "p", "--api", "a"], {"CORTEX_GRACE_SECONDS": "soon"}, "CORTEX_GRACE_SECONDS"),
])
def test_bad_usage_exits_2_with_the_reason(
    argv: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_options(argv, env)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("env, message", [
    ({"CORTEX_PORT": "http"}, "CORTEX_PORT: not a port number: 'http'"),
    ({"CORTEX_ADMIN_PORT": "70000"}, "CORTEX_ADMIN_PORT: port out of range: 70000"),
    ({"CORTEX_LISTEN_FD": "1"}, "CORTEX_LISTEN_FD: not an inherited socket: 1"),
])
def test_a_bad_variable_is_named_in_the_usage_error(
    env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_options(["--project", "p", "--api", "a"], env)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_flag_wins_over_a_bad_variable() -> None:
    opts = parse_options(["--project", "p", "--api", "a", "--port", "9000"],
                         {"CORTEX_PORT": "http"})
    assert opts.port == 9000
