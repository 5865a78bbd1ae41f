"""Project snapshots: the files replicas run, frozen at deploy time.

A snapshot is a copy of the project folder under the state directory, named by the hash of
its content, so later edits of the project do not change running replicas until a redeploy.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

IGNORED_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache",
                ".pytest_cache", ".ruff_cache"}
IGNORED_SUFFIXES = (".pyc", ".pyo")


def _files(root: Path, exclude: frozenset[str] = frozenset()) -> list[Path]:
    found: list[Path] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in IGNORED_DIRS for part in rel.parts) or rel.as_posix() in exclude:
            continue
        if path.is_file() and not path.name.endswith(IGNORED_SUFFIXES):
            found.append(path)
    return found


def content_hash(root: Path, exclude: frozenset[str] = frozenset()) -> str:
    """Hash of the project's files (names and bytes), leaving out the relative paths `exclude`."""
    digest = hashlib.sha256()
    for path in _files(root, exclude):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:  # in chunks: model weights may outgrow memory
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def take_snapshot(root: Path, snapshots: Path) -> tuple[str, Path]:
    """Copy `root` into `snapshots/<hash>/` (once per distinct content); returns (hash, dir)."""
    digest = content_hash(root)
    target = snapshots / digest[:16]
    if target.is_dir():
        return digest, target
    tmp = snapshots / f".{digest[:16]}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    for path in _files(root):
        dest = tmp / path.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    tmp.mkdir(parents=True, exist_ok=True)
    tmp.rename(target)
    return digest, target


def prune(snapshots: Path, keep: set[Path]) -> None:
    """Remove snapshots no API version refers to any more."""
    if not snapshots.is_dir():
        return
    for path in snapshots.iterdir():
        if path.is_dir() and path not in keep and not path.name.startswith("."):
            shutil.rmtree(path, ignore_errors=True)
