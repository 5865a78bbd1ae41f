"""`render -o DIR` where DIR cannot be written: a message naming it, exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.cli import main

IRIS = Path(__file__).resolve().parents[2] / "examples" / "iris"


def test_render_into_a_file_or_a_missing_place_is_a_user_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    taken = tmp_path / "afile"
    taken.write_text("")
    for target, named in ((taken, taken), (Path("/proc/no/such/dir"), Path("/proc/no"))):
        assert main(["render", "-p", str(IRIS), "-o", str(target)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot write the manifests to {named}: "), err
        assert "Traceback" not in err
