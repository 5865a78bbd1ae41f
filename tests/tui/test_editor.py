"""`e`: the cortex.yaml editor — live validation, problem lines marked, save, deploy."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from cortex_tui.tui.screens.apis import ApisScreen
from cortex_tui.tui.screens.editor import VALIDATE_DELAY, EditorScreen
from cortex_tui.tui.widgets.yaml_editor import YamlEditor
from tests.tui.conftest import SIZE, settle
from tests.tui.scenes import footer_keys, wait_until


async def open_editor(pilot) -> tuple[EditorScreen, YamlEditor]:
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen, screen.query_one(YamlEditor)


async def type_at_end_of_line(pilot, editor: YamlEditor, line: int, keys: list[str]) -> None:
    editor.move_cursor((line - 1, len(editor.document.get_line(line - 1))))
    screen = pilot.app.screen
    validated = screen.validations
    await pilot.press(*keys)
    await wait_until(pilot, lambda: screen.validations > validated, timeout=VALIDATE_DELAY + 10)


def panel(screen: EditorScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_editor_shows_the_file_highlighted_and_valid(make_app, iris: Path) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen, editor = await open_editor(pilot)
        assert editor.text == iris.read_text()
        assert editor.is_syntax_aware  # tree-sitter-yaml is installed
        assert "no problems" in panel(screen, "#problems")
        assert editor.problem_lines == frozenset()


async def test_typing_an_error_lists_it_with_its_line_and_marks_the_line(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen, editor = await open_editor(pilot)
        assert editor.document.get_line(11) == "    min_replicas: 1"
        await type_at_end_of_line(pilot, editor, 12, ["backspace", "0"])
        problems = panel(screen, "#problems")
        assert "cortex.yaml:12:" in problems and "compute.min_replicas" in problems
        assert editor.problem_lines == frozenset({12})
        await type_at_end_of_line(pilot, editor, 12, ["backspace", "2"])
        assert "no problems" in panel(screen, "#problems")
        assert editor.problem_lines == frozenset()


async def test_ctrl_s_saves(make_app, iris: Path) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        _screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 13, ["backspace", "9"])
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert "    max_replicas: 9\n" in iris.read_text()
    assert iris.read_text().startswith("# The iris classifier")


async def test_f5_saves_deploys_and_shows_per_api_results(make_app, fake, iris: Path) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 13, ["backspace", "3"])
        await pilot.press("f5")
        await settle(pilot)
        assert "updating iris-classifier api" in panel(screen, "#results")
    (call,) = fake.called("deploy")
    project = call.args[0]
    assert project.api("iris-classifier").compute.max_replicas == 3
    assert "    max_replicas: 3\n" in iris.read_text()


async def test_deploy_of_an_invalid_file_is_refused_and_the_file_left_alone(
    make_app, fake, iris: Path
) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 12, ["backspace", "0"])
        await pilot.press("f5")
        await settle(pilot)
        results = panel(screen, "#results")
        assert "not deployed" in results and "not saved" in results
        assert "cortex.yaml:12:" in results and "min_replicas" in results
        assert screen.dirty  # the guard on leaving still applies
    assert fake.called("deploy") == []
    assert iris.read_text() == before


async def test_a_failed_deploy_after_saving_counts_as_saved(make_app, fake, iris: Path) -> None:
    fake.fail["deploy"] = "target unreachable"
    async with make_app().run_test(size=SIZE) as pilot:
        screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 13, ["backspace", "3"])
        await pilot.press("f5")
        await settle(pilot)
        results = panel(screen, "#results")
        assert "deploy failed" in results and "target unreachable" in results
        assert "saved" in results
        assert not screen.dirty  # the file holds the text: leaving needs no second esc
    assert "    max_replicas: 3\n" in iris.read_text()


async def test_escape_with_unsaved_changes_warns_once(make_app, iris: Path) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        _screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 13, ["backspace", "7"])
        assert footer_keys(pilot)["escape"] == "Done editing"
        assert "enter" not in footer_keys(pilot)  # enter is a new line here
        await pilot.press("escape")  # leaves the text box
        assert not editor.has_focus and footer_keys(pilot)["escape"] == "Back"
        assert footer_keys(pilot)["enter"] == "Edit"
        await pilot.press("enter")  # edits again
        assert editor.has_focus
        await pilot.press("escape", "escape")
        assert isinstance(pilot.app.screen, EditorScreen)
        assert any("unsaved changes" in n.message for n in pilot.app._notifications)
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, ApisScreen)
    assert iris.read_text() == before


async def test_keys_typed_in_a_burst_edit_in_order(make_app) -> None:
    """down, end, backspace, '0' arriving together must edit the end of the next line: a
    TextArea's bound keys ran after the typed ones that followed them (Textual #6605)."""
    from textual import events

    async with make_app().run_test(size=SIZE) as pilot:
        _screen, editor = await open_editor(pilot)
        editor.move_cursor((10, 0))  # line 11, "  compute:"
        keys = (("down", None), ("end", None), ("backspace", None), ("0", "0"))
        for key, char in keys:
            pilot.app.post_message(events.Key(key, char))  # no pause between keys
        await settle(pilot)
        assert editor.document.get_line(11) == "    min_replicas: 0"
        assert editor.document.get_line(10) == "  compute:"


async def test_q_with_unsaved_changes_warns_before_quitting(make_app, iris: Path) -> None:
    before = iris.read_text()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _screen, editor = await open_editor(pilot)
        await type_at_end_of_line(pilot, editor, 13, ["backspace", "7"])
        await pilot.press("escape", "q")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, EditorScreen)
        assert any("unsaved changes" in n.message for n in app._notifications)
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code == 0 and iris.read_text() == before


async def test_e_in_the_editor_does_not_open_a_second_editor(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen, _editor = await open_editor(pilot)
        await pilot.press("escape", "e")  # leave the text, then the page key
        await settle(pilot)
        assert pilot.app.screen is screen
        assert sum(isinstance(s, EditorScreen) for s in pilot.app.screen_stack) == 1
        assert "e" not in footer_keys(pilot)
