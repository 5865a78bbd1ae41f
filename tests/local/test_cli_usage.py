"""CLI mistakes answered before any target is touched: exit 2 for usage, 1 for bad input."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.cli import main


def test_usage_errors_exit_2(capsys) -> None:  # type: ignore[no-untyped-def]
    for argv in (["delete"], ["delete", "x", "--all"], ["scale", "x"], ["predict", "x"]):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2, argv
    assert "give an API name or --all" in capsys.readouterr().err


def test_predict_names_the_sample_file_at_fault(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["predict", "api", str(tmp_path / "missing.json")]) == 1
    assert "missing.json: cannot read the sample" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["predict", "api", str(bad)]) == 1
    assert "bad.json: not valid JSON" in capsys.readouterr().err


def test_logs_tail_must_be_a_count(capsys) -> None:  # type: ignore[no-untyped-def]
    for bad in ("-3", "x"):
        try:
            code = main(["logs", "api", "--tail", bad])
        except SystemExit as exc:
            code = exc.code
        assert code == 2, bad
    assert "--tail: must be 0 or more (got -3)" in capsys.readouterr().err


def test_a_home_that_is_not_a_folder_is_a_user_error(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "a-file"
    home.write_text("")
    monkeypatch.setenv("CORTEX_TUI_HOME", str(home))
    assert main(["get"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot use {home}/local for the local operator's files: "
                          "Not a directory"), err
