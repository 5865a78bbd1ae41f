"""Project snapshots: content hashes that do not depend on memory, copies that do not move."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from cortex_tui.local.snapshot import content_hash, take_snapshot


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
