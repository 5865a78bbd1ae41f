"""Where the local operator keeps its files, defined once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cortex_tui.errors import TargetUnavailable
from cortex_tui.settings import home

TOKEN_HEADER = "X-Cortex-Token"  # every request to the operator carries the token file's text


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def current(cls) -> StateDir:
        # Absolute: the operator runs in another working directory, and every process of
        # ours is recognised by this path in its environment.
        return cls(home().absolute() / "local")

    @property
    def lock(self) -> Path:  # held (flock) by the running operator for its whole life
        return self.root / "operator.lock"

    @property
    def start_lock(self) -> Path:  # serialises clients that start the operator
        return self.root / "start.lock"

    @property
    def address(self) -> Path:  # {"pid", "port"} of the running operator
        return self.root / "operator.json"

    @property
    def stopped(self) -> Path:  # written by `local stop`: connected sessions do not restart it
        return self.root / "stopped"

    @property
    def token(self) -> Path:
        return self.root / "token"

    @property
    def operator_log(self) -> Path:
        return self.root / "operator.log"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def history(self) -> Path:
        return self.root / "history.sqlite"

    @property
    def scrape_targets(self) -> Path:  # Prometheus file_sd: every replica's admin port
        return self.root / "prometheus-targets.json"

    @property
    def environments(self) -> Path:  # one virtual environment per distinct requirements.txt
        return self.root / "environments"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    def log_dir(self, api: str) -> Path:
        return self.root / "logs" / api

    def ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.root, 0o700)
        except OSError as exc:
            raise TargetUnavailable(
                f"cannot use {self.root} for the local operator's files: "
                f"{exc.strerror or exc} (the folder comes from CORTEX_TUI_HOME, default "
                f"~/.cortex-tui)"
            ) from None


def write_private(path: Path, text: str) -> None:
    """Write a file readable only by its owner (0600), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
