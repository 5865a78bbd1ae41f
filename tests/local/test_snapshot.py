"""Project snapshots: content hashes that do not depend on memory, copies that do not move."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from cortex_tui.local.snapshot import content_hash, take_snapshot
from tests.helpers.project_files import add_hostile_files, add_outside_link
from tests.local.conftest import Local, make_project


def test_a_large_file_is_hashed_without_reading_it_whole(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    with open(root / "weights.bin", "wb") as handle:
        handle.truncate(64 << 20)  # 64 MiB (sparse: cheap to make)
    tracemalloc.start()
    try:
        content_hash(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"hashing held {peak >> 20} MiB"


def test_edits_after_the_snapshot_do_not_change_it(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "inference.py").write_text("A = 1\n")
    (root / "pkg" / "helper.py").write_text("B = 2\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"junk")
    digest, snap = take_snapshot(root, tmp_path / "snaps")
    (root / "inference.py").write_text("A = 3\n")
    assert (snap / "inference.py").read_text() == "A = 1\n"
    assert (snap / "pkg" / "helper.py").read_text() == "B = 2\n"
    assert not (snap / "__pycache__").exists()
    assert content_hash(root) != digest
    assert take_snapshot(root, tmp_path / "snaps")[1] != snap


def test_deploy_runs_a_linked_package_and_refuses_a_link_out(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "from linked_pkg.util import X\n\n"
                        "def predict(sample, metadata):\n    return X\n", name="linked")
    add_hostile_files(root)
    link = add_outside_link(root, tmp_path / "shadow")
    refused = local.cli("deploy", "-p", str(root))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert f"{link}: a link to {tmp_path / 'shadow'}, outside the project folder" \
        in refused.stderr
    link.unlink()
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    local.wait_status("linked", "live", available=1)
    assert local.backend.predict("linked", {}).body == 1
    snap = next(p for p in local.state.snapshots.iterdir() if not p.name.startswith("."))
    assert not (snap / ".env").exists() and not (snap / ".ssh").exists()
