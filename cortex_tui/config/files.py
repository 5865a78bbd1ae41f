"""Which files of a project a deploy ships: one listing for the local snapshot and the
Kubernetes bundle, so both targets run the same files.

Left out: what `.cortexignore` (gitignore syntax, in the project folder) matches, after
defaults that keep secrets, version control, virtual environments and caches out (a `!pattern`
line in `.cortexignore` takes one back). Links are followed when they stay inside the project
(a linked folder is shipped as a folder); a link that leaves it, points nowhere or loops is
refused, naming the link: shipping `/etc/shadow` or silently dropping a package are both worse
than a deploy that stops with a clear reason.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pathspec

from cortex_tui.errors import UserError

IGNORE_FILE = ".cortexignore"
DEFAULT_IGNORE = (
    # secrets
    ".env", ".env.*", ".envrc", ".netrc", ".pypirc", ".npmrc", ".git-credentials",
    ".aws/", ".ssh/", ".gnupg/", ".kube/", ".docker/", "id_rsa*", "id_dsa*", "id_ecdsa*",
    "id_ed25519*",
    # version control
    ".git/", ".hg/", ".svn/",
    # virtual environments, dependencies and caches
    ".venv/", "venv/", "node_modules/", "__pycache__/", "*.pyc", "*.pyo", ".mypy_cache/",
    ".pytest_cache/", ".ruff_cache/", ".tox/", ".ipynb_checkpoints/", ".DS_Store",
)


class ProjectFilesError(UserError):
    """The project folder cannot be shipped as it is; the message names the file at fault."""


@dataclass(frozen=True)
class ShippedFile:
    relative: str  # POSIX path inside the project, as the replicas see it
    source: Path  # the file to read (a link's target)
    size: int


def ignore_spec(root: Path) -> pathspec.GitIgnoreSpec:
    """The defaults, then the project's `.cortexignore` lines (which may negate them)."""
    lines = list(DEFAULT_IGNORE)
    ignore_file = root / IGNORE_FILE
    try:
        lines += ignore_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectFilesError(f"{ignore_file}: cannot be read ({exc})") from None
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as exc:
        raise ProjectFilesError(f"{ignore_file}: {exc}") from None


def project_files(root: Path, exclude: frozenset[str] = frozenset()) -> list[ShippedFile]:
    """Every file a deploy of `root` ships, sorted by relative path (`exclude`: relative
    paths left out as well, e.g. the config file each API ships on its own)."""
    real_root = root.resolve()
    walker = _Walker(root, real_root, ignore_spec(root), exclude)
    walker.walk(real_root, "", (real_root,))
    return sorted(walker.found, key=lambda f: f.relative)


@dataclass
class _Walker:
    root: Path
    real_root: Path
    spec: pathspec.GitIgnoreSpec
    exclude: frozenset[str]

    def __post_init__(self) -> None:
        self.found: list[ShippedFile] = []

    def walk(self, folder: Path, prefix: str, chain: tuple[Path, ...]) -> None:
        """`folder` (a real path) shipped as `prefix`; `chain`: the real folders above it,
        to refuse a link back to one of them (it would never end)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ProjectFilesError(f"{self.root / prefix}: cannot be read "
                                    f"({exc.strerror or exc})") from None
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            self.entry(Path(entry.path), relative, chain)

    def entry(self, path: Path, relative: str, chain: tuple[Path, ...]) -> None:
        try:
            info = path.lstat()
            real = path.resolve(strict=True) if stat.S_ISLNK(info.st_mode) else path
            target = real.stat()
        except (OSError, RuntimeError):  # RuntimeError: a loop of links
            raise ProjectFilesError(
                f"{path}: a link that points to nothing (or to itself); "
                f"remove it, or list it in {IGNORE_FILE}") from None
        is_dir = stat.S_ISDIR(target.st_mode)
        if self.spec.match_file(relative + "/" if is_dir else relative):
            return
        if stat.S_ISLNK(info.st_mode) and not real.is_relative_to(self.real_root):
            raise ProjectFilesError(
                f"{path}: a link to {real}, outside the project folder; "
                f"copy what it points to into the project, or list it in {IGNORE_FILE}")
        if is_dir:
            if real in chain:
                raise ProjectFilesError(
                    f"{path}: a link to {real}, a folder that contains it "
                    f"(the project would never end); remove it, or list it in {IGNORE_FILE}")
            self.walk(real, relative + "/", (*chain, real))
        elif stat.S_ISREG(target.st_mode) and relative not in self.exclude:
            self.found.append(ShippedFile(relative, real, target.st_size))
        # sockets, pipes and devices have no content to ship
