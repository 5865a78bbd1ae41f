"""`cortex-tui bench` refuses bad input before it sends anything: usage errors exit 2, a sample
file that is not JSON lines exits 1 naming its line (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex_tui.cli import main


def test_bench_refuses_what_it_cannot_run(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    not_lines = tmp_path / "samples.jsonl"
    not_lines.write_text('{"x": 1}\n{"x": 2\n')
    assert main(["bench", "echo", "--samples", str(not_lines)]) == 1
    err = capsys.readouterr().err
    assert f"{not_lines}:2: not JSON lines" in err
    assert "Traceback" not in err

    for args in (["-c", "1025"], ["-c", "0"], ["-d", "11m"], ["-d", "soon"],
                 ["-c", "2", "--rate", "5"], ["--profile", "wave"], ["--max-error-rate", "2"]):
        with pytest.raises(SystemExit) as exit_:
            main(["bench", "echo", "--samples", str(not_lines), *args])
        assert exit_.value.code == 2, args
        assert "usage:" in capsys.readouterr().err

    assert main(["bench", "echo", "-p", str(tmp_path)]) == 1
    assert "has no sample.json; pass --samples FILE" in capsys.readouterr().err
