"""Project snapshots: the files replicas run, frozen at deploy time.

A snapshot is a copy of the project folder under the state directory, named by the hash of
its content, so later edits of the project do not change running replicas until a redeploy.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from cortex_tui.config.files import ShippedFile, project_files


def content_hash(root: Path, exclude: frozenset[str] = frozenset()) -> str:
    """Hash of the project's files (names and bytes), leaving out the relative paths `exclude`."""
    return _hash(project_files(root, exclude))


def _hash(files: list[ShippedFile]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative.encode() + b"\0")
        with open(file.source, "rb") as handle:  # in chunks: model weights may outgrow memory
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def take_snapshot(root: Path, snapshots: Path) -> tuple[str, Path]:
    """Copy the files a deploy of `root` ships into `snapshots/<hash>/` (once per distinct
    content); returns (hash, dir). ProjectFilesError when the folder cannot be shipped."""
    files = project_files(root)
    digest = _hash(files)
    target = snapshots / digest[:16]
    if target.is_dir():
        return digest, target
    tmp = snapshots / f".{digest[:16]}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    for file in files:
        dest = tmp / file.relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file.source, dest)
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
