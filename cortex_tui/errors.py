"""Errors a user can act on, with one root: the CLI and the TUI catch `UserError` and show its
message as is (no traceback). A leaf module: it imports nothing of ours, so every layer may use it.

Other user errors derive from `UserError` where they are raised: `ConfigError` (config.model),
`ScaleError` (config.scaling), `WritebackError` (config.writeback), `SettingsError` (settings),
`KeymapError` (tui.keymap), `AwsError` (aws.clients).
"""

from __future__ import annotations


def describe_error(exc: BaseException) -> str:
    """How a failure reads to the user: a user error's own words, else its type too."""
    if isinstance(exc, (UserError, ValueError, OSError)):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


class UserError(Exception):
    """A problem the user can act on; `str(error)` is the whole message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BackendError(UserError):
    """A target refused or failed an action; the message says why."""


class ApiNotFound(BackendError):
    def __init__(self, api: str) -> None:
        super().__init__(f'api "{api}" is not deployed')
        self.api = api


class TargetUnavailable(BackendError):
    """The target cannot be reached (operator down and cannot start, cluster unreachable)."""


class NotSupported(BackendError):
    """An optional capability this target does not have (see `Backend`'s `supports_*` flags);
    the message says what and where it is available."""
