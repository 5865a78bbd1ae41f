"""What a deploy ships: `.cortexignore` and its defaults, links inside and outside the project,
the same for the local snapshot and the Kubernetes bundle; `deploy --dry-run` lists it."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cortex_tui.config.files import ProjectFilesError, project_files
from cortex_tui.kube.project import bundle_project
from cortex_tui.local.snapshot import take_snapshot
from tests.config.conftest import PREDICT
from tests.helpers.project_files import SHIPPED, add_hostile_files, add_outside_link

CONFIG = "- kind: api\n  name: m\n  python:\n    inference: inference.py\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "cortex.yaml").write_text(CONFIG)
    (root / "inference.py").write_text(PREDICT)
    add_hostile_files(root)
    return root


def _snapshot_names(snap: Path) -> list[str]:
    return sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file())


def test_both_targets_ship_the_same_files_without_secrets(project: Path, tmp_path: Path) -> None:
    assert [f.relative for f in project_files(project)] == sorted(SHIPPED)
    _, snap = take_snapshot(project, tmp_path / "snaps")
    assert _snapshot_names(snap) == sorted(SHIPPED)
    assert not (snap / "linked_pkg").is_symlink()  # a copy: the replica never leaves it
    assert (snap / "linked_pkg" / "util.py").read_text() == "X = 1\n"
    bundle = zipfile.ZipFile(io.BytesIO(bundle_project(project).data))
    assert sorted(bundle.namelist()) == sorted(SHIPPED)


def test_a_link_leaving_the_project_is_refused_by_both_naming_it(
        project: Path, tmp_path: Path) -> None:
    link = add_outside_link(project, tmp_path / "shadow")
    message = f"{link}: a link to {tmp_path / 'shadow'}, outside the project folder"
    with pytest.raises(ProjectFilesError, match=message):
        take_snapshot(project, tmp_path / "snaps")
    with pytest.raises(ProjectFilesError, match=message):
        bundle_project(project)
    assert not (tmp_path / "snaps").exists() or not any((tmp_path / "snaps").iterdir())


@pytest.mark.parametrize("make", ["dangling", "loop"])
def test_broken_and_looping_links_are_refused(project: Path, make: str) -> None:
    link = project / "bad"
    link.symlink_to("nowhere" if make == "dangling" else ".")
    with pytest.raises(ProjectFilesError, match=str(link)):
        project_files(project)


def test_ignoring_a_bad_link_ships_the_rest(project: Path, tmp_path: Path) -> None:
    add_outside_link(project, tmp_path / "shadow")
    (project / ".cortexignore").write_text("shadow\n")
    assert "shadow" not in [f.relative for f in project_files(project)]


def test_deploy_dry_run_lists_what_ships_and_deploys_nothing(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cortex_tui", "deploy", "--dry-run", "-p", str(project)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "CORTEX_TUI_HOME": str(project.parent / "home")},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    size = sum(f.size for f in project_files(project))
    assert lines[0] == f"would ship {len(SHIPPED)} files ({size} bytes) from {project}:"
    assert [line.split()[0] for line in lines[1:-1]] == sorted(SHIPPED)
    assert not (project.parent / "home").exists()  # no operator started
