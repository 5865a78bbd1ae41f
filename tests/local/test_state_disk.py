"""The state directory on a full or read-only disk (a real tmpfs, mounted for the test): the
operator keeps serving and supervising, and a change it cannot keep is not applied."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cortex_tui.config import load_project
from cortex_tui.errors import BackendError
from cortex_tui.types import ScaleRequest
from tests.local.conftest import Local, make_project, wait_for

OK = "def predict(sample, metadata):\n    return sample\n"
TWO = "cpu: 10m\nmin_replicas: 2\nmax_replicas: 3\ninit_replicas: 2\n"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def tmpfs_local(local: Local) -> Iterator[Local]:
    """`local` with its home on a 16 MiB tmpfs of its own."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mounted = _mount("-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(local.home))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield local
    finally:
        local.backend.stop_operator()
        subprocess.run(["umount", "-l", str(local.home)], check=False)


def _fill(path: Path) -> None:
    """Write `path` until the disk is full."""
    with open(path, "wb", buffering=0) as handle:
        for chunk in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * chunk)


def _predicts(local: Local, api: str) -> bool:
    return local.backend.predict(api, {"x": 1}).status == 200


def test_a_full_disk_stops_no_replica_and_the_operator_keeps_supervising(
        tmpfs_local: Local, tmp_path: Path) -> None:
    local = tmpfs_local
    local.backend.deploy(load_project(make_project(tmp_path / "p", OK, TWO, name="m")))
    local.wait_status("m", "live", available=2)
    operator = local.operator_pid()
    filler = local.home / "filler"
    _fill(filler)

    victim = sorted(local.replica_pids("m"))[0]
    os.kill(victim, signal.SIGKILL)
    # the operator sees the exit, cannot write its history, state or log, and goes on
    wait_for(lambda: "No space left on device" in local.state_of("m").message, 15,
             "get saying why the state cannot be kept")
    assert _predicts(local, "m")
    assert local.operator_pid() == operator

    filler.unlink()
    local.wait_status("m", "live", available=2)
    assert local.operator_pid() == operator and _predicts(local, "m")
    wait_for(lambda: not local.state_of("m").message, 10, "the message cleared")
    log = local.state.operator_log.read_text()
    assert "Traceback" not in log, log
    assert log.count("history writes fail (OperationalError: database or disk is full)") == 1, log
    assert log.count("history writes work again") == 1, log


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only for whoever opens it from now on (a read-only bind mount on itself;
    files open already stay writable, as after a remount that failed half-way)."""
    mounted = _mount("--bind", "-o", "ro", str(path), str(path))
    assert mounted.returncode == 0, mounted.stderr
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_read_only_state_directory_refuses_changes_and_still_replaces_replicas(
        local: Local, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    local.backend.deploy(load_project(make_project(tmp_path / "p", OK, TWO, name="m")))
    local.wait_status("m", "live", available=2)
    root = local.state.root
    with read_only(root):
        with pytest.raises(BackendError, match=f"state directory not writable: {root} "
                                               r"\(Read-only file system.*nothing was changed"):
            local.backend.scale("m", ScaleRequest(min_replicas=3))
        state = local.state_of("m")
        assert (state.min_replicas, state.requested) == (2, 2)
        assert f"state directory not writable: {root}" in state.message

        victim = sorted(local.replica_pids("m"))[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in local.replica_pids("m") and
                 local.state_of("m").available == 2, 30, "a replacement replica")
        assert _predicts(local, "m")
    assert "Traceback" not in local.state.operator_log.read_text()
    assert local.backend.scale("m", ScaleRequest(min_replicas=3)).min_replicas == 3
