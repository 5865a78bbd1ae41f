from pathlib import Path

import pytest

from cortex_tui.config.writeback import WritebackError, write_scale

CONFIG = """\
# my project
- kind: api
  name: iris-classifier  # the classifier
  python:
    inference: inference.py
  compute:
    min_replicas: 1   # keep one warm
    max_replicas: 5
    cpu: "200m"

# the second API has no compute block
- kind: api
  name: other
  python:
    inference: inference.py
"""


def test_write_scale_changes_only_the_values_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(CONFIG)
    write_scale(path, "iris-classifier", {"min_replicas": 2, "max_replicas": 7})
    assert path.read_text() == CONFIG.replace("min_replicas: 1 ", "min_replicas: 2 ").replace(
        "max_replicas: 5", "max_replicas: 7"
    )


def test_write_scale_adds_a_compute_block_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(CONFIG)
    write_scale(path, "other", {"target_cpu_utilization": 60})
    text = path.read_text()
    assert text.startswith(CONFIG.rstrip("\n"))
    added = "    inference: inference.py\n  compute:\n    target_cpu_utilization: 60\n"
    assert text.endswith(added)


def test_write_scale_keeps_indented_sequence_style(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    indented = "  - kind: api\n    name: a  # x\n    compute:\n      max_replicas: 3\n"
    path.write_text(indented)
    write_scale(path, "a", {"max_replicas": 4})
    assert path.read_text() == indented.replace("3", "4")


def test_write_scale_refuses_unknown_api(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(CONFIG)
    with pytest.raises(WritebackError, match='no api named "nope"'):
        write_scale(path, "nope", {"min_replicas": 2})
    assert path.read_text() == CONFIG


def test_write_scale_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    """A symlinked cortex.yaml stays a link, its mode is kept, and no temporary file is left."""
    real = tmp_path / "shared.yaml"
    real.write_text(CONFIG)
    real.chmod(0o640)
    link = tmp_path / "cortex.yaml"
    link.symlink_to(real)
    write_scale(link, "iris-classifier", {"max_replicas": 9})
    assert link.is_symlink()
    assert "max_replicas: 9" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_write_scale_names_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    data = CONFIG.encode().replace(b"# my project", b"# caf\xe9")
    path.write_bytes(data)
    with pytest.raises(WritebackError, match="not UTF-8"):
        write_scale(path, "iris-classifier", {"min_replicas": 2})
    assert path.read_bytes() == data


def test_a_new_file_gets_the_usual_mode_not_a_private_one(tmp_path: Path) -> None:
    from cortex_tui.config.atomic import write_text_atomic

    path = tmp_path / "cortex.yaml"
    write_text_atomic(path, CONFIG)
    assert path.read_text() == CONFIG
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    current = os.umask(0o022)
    os.umask(current)
    return current


def test_an_init_that_only_follows_min_is_not_pinned_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cortex.yaml"
    path.write_text(CONFIG)
    write_scale(path, "iris-classifier", {"min_replicas": 2, "init_replicas": 2})
    assert path.read_text() == CONFIG.replace("min_replicas: 1 ", "min_replicas: 2 ")
    write_scale(path, "iris-classifier", {"init_replicas": 3})  # chosen: written
    assert "    init_replicas: 3\n" in path.read_text()
