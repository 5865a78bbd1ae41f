"""`e`: edit cortex.yaml with live validation; save with ctrl+s; deploy with f5."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from cortex_tui.actions import DeployOutcome, deploy_summary, save_and_deploy, validate
from cortex_tui.config.atomic import write_text_atomic
from cortex_tui.config.loader import problem_count
from cortex_tui.config.model import Problem
from cortex_tui.tui.messages import (
    ActionFailed,
    Saved,
    SavedAndDeployed,
    Validated,
    run_blocking,
)
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.widgets.yaml_editor import YamlEditor

VALIDATE_DELAY = 0.3  # seconds of quiet typing before validating


def outcome_text(outcome: DeployOutcome, name: str) -> Text:
    if outcome.problems:
        count = problem_count(outcome.problems)
        more = f" (and {count - 1} more above)" if count > 1 else ""
        return (Text("not deployed, not saved: fix first\n", style="bold red")
                + problem_line(outcome.problems[0]) + Text(more))
    if outcome.error is not None:
        return Text(f"deploy failed ({name} saved)\n", style="bold red") + Text(outcome.error)
    assert outcome.result is not None
    return Text("deployed\n", style="bold green") + Text(deploy_summary(outcome.result))


def problems_text(problems: list[Problem]) -> Text:
    if not problems:
        return Text("✓ no problems", style="green")
    text = Text()
    count = problem_count(problems)
    text.append(f"{count} problem{'s' if count > 1 else ''}\n", style="bold red")
    for problem in problems:
        text.append_text(problem_line(problem))
        text.append("\n")
    text.rstrip()
    return text


def problem_line(problem: Problem) -> Text:
    text = Text(f"{problem.file}:{problem.line}:{problem.column} ", style="bold")
    who = f'api "{problem.api}": ' if problem.api else ""
    key = f"{problem.path}: " if problem.path else ""
    text.append(f"{who}{key}{problem.message}")
    return text


class EditorScreen(CortexScreen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("f5", "deploy", "Deploy", id="editor.deploy"),
        Binding("f8", "next_problem", "Next problem", id="editor.next_problem"),
        Binding("escape", "back", "Back", id="editor.back"),
        Binding("enter", "edit", "Edit", id="editor.edit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[Problem] = []
        self.validations = 0  # results shown so far (tests wait on it)
        self.saved_text = ""
        self._timer: Timer | None = None
        self._warned_unsaved = False

    def compose(self) -> ComposeResult:
        path = self.cortex.config_path
        try:
            self.saved_text = path.read_text(encoding="utf-8")
        except OSError:
            self.saved_text = ""
        editor = YamlEditor(self.saved_text, id="editor", read_only=self.cortex.readonly)
        editor.border_title = str(path)
        yield editor
        with VerticalScroll(id="side"):
            yield Static(Text("validating...", style="dim"), id="problems")
            yield Static(id="results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(YamlEditor).focus()
        self._validate()

    @property
    def text(self) -> str:
        return self.query_one(YamlEditor).text

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    @on(TextArea.Changed)
    def text_changed(self) -> None:
        self._warned_unsaved = False
        self._show_title()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(VALIDATE_DELAY, self._validate)

    def _show_title(self) -> None:
        editor = self.query_one(YamlEditor)
        editor.border_title = f"{self.cortex.config_path}{' (modified)' if self.dirty else ''}"

    def _validate(self) -> None:
        text, path = self.text, self.cortex.config_path
        run_blocking(self, Validated, lambda: (text, validate(text, path)), exclusive=True)

    def _show_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.validations += 1
        name = self.cortex.config_path.name
        self.query_one(YamlEditor).mark_lines({p.line for p in problems if p.file == name})
        self.query_one("#problems", Static).update(problems_text(problems))

    # -- actions --------------------------------------------------------------------------
    def action_save(self) -> None:
        text, path = self.text, self.cortex.config_path
        run_blocking(self, Saved, lambda: (write_text_atomic(path, text), text)[1])

    def action_deploy(self) -> None:
        text, path, backend = self.text, self.cortex.config_path, self.cortex.backend
        self.query_one("#results", Static).update(Text("deploying...", style="yellow"))
        run_blocking(
            self, SavedAndDeployed, lambda: save_and_deploy(text, path, backend), exclusive=True
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":  # offered only outside the text
            editors = self.query(YamlEditor)
            return bool(editors) and not editors.first().has_focus
        return super().check_action(action, parameters)

    def action_edit(self) -> None:
        self.query_one(YamlEditor).focus()

    def action_next_problem(self) -> None:
        editor = self.query_one(YamlEditor)
        lines = sorted({p.line for p in self.problems if p.file == self.cortex.config_path.name})
        if not lines:
            return
        row = editor.cursor_location[0] + 1
        target = next((line for line in lines if line > row), lines[0])
        editor.move_cursor((target - 1, 0), center=True)
        editor.focus()

    def warn_unsaved(self) -> bool:
        """The first attempt to leave unsaved changes (esc, q) warns instead; True then."""
        if self.dirty and not self._warned_unsaved and not self.cortex.readonly:
            self._warned_unsaved = True
            self.notify("unsaved changes: ctrl+s saves; esc or q again leaves without saving",
                        severity="warning")
            return True
        return False

    def action_back(self) -> None:
        if not self.warn_unsaved():
            self.dismiss(None)

    # -- results --------------------------------------------------------------------------
    def on_validated(self, message: Validated) -> None:
        message.stop()
        text, problems = message.value
        if text == self.text:
            self._show_problems(problems)

    def on_saved(self, message: Saved) -> None:
        message.stop()
        self.saved_text = message.value
        self._show_title()
        self.notify(f"saved {self.cortex.config_path.name}")
        self.cortex.reload_project()

    def on_saved_and_deployed(self, message: SavedAndDeployed) -> None:
        message.stop()
        outcome: DeployOutcome = message.value
        self.query_one("#results", Static).update(
            outcome_text(outcome, self.cortex.config_path.name)
        )
        if outcome.saved:
            self.saved_text = outcome.text
            self._show_title()
            self.cortex.reload_project()
        if outcome.result is not None:
            self.notify(deploy_summary(outcome.result), title="deployed")
            self.cortex.refresh_views()
        elif outcome.error is not None:
            self.notify(outcome.error, title="deploy failed", severity="error", timeout=8)
        else:
            self.notify("fix the problems first (f8 goes to the next one)",
                        title="not deployed", severity="error")

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action is SavedAndDeployed:  # the file could not be written
            self.query_one("#results", Static).update(
                Text("not deployed, not saved\n", style="bold red") + Text(message.error)
            )
