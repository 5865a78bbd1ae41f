"""`e`: edit cortex.yaml with live validation; save with ctrl+s; deploy with f5."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from cortex_tui.backends.base import Backend, DeployResult
from cortex_tui.config.model import Problem
from cortex_tui.tui.app import deploy_summary
from cortex_tui.tui.messages import Done, Failed, run_blocking
from cortex_tui.tui.screens.base import CortexScreen
from cortex_tui.tui.widgets.yaml_editor import YamlEditor

VALIDATE_DELAY = 0.3  # seconds of quiet typing before validating


def validate(text: str, config_path: Path) -> list[Problem]:
    from cortex_tui.config import validate_text

    _project, problems = validate_text(text, config_path.parent, config_path.name)
    return list(problems)


def save_and_deploy(text: str, config_path: Path, backend: Backend) -> DeployResult:
    from cortex_tui.config import load_project

    config_path.write_text(text, encoding="utf-8")
    return backend.deploy(load_project(config_path))


def problems_text(problems: list[Problem]) -> Text:
    if not problems:
        return Text("✓ no problems", style="green")
    text = Text()
    text.append(f"{len(problems)} problem{'s' if len(problems) > 1 else ''}\n", style="bold red")
    for problem in problems:
        text.append(f"{problem.file}:{problem.line}:{problem.column} ", style="bold")
        who = f'api "{problem.api}": ' if problem.api else ""
        key = f"{problem.path}: " if problem.path else ""
        text.append(f"{who}{key}{problem.message}\n")
    text.rstrip()
    return text


class EditorScreen(CortexScreen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("f5", "deploy", "Deploy", id="editor.deploy"),
        Binding("f8", "next_problem", "Next problem", id="editor.next_problem"),
        Binding("escape", "back", "Back", id="editor.back"),
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
        run_blocking(self, "validate", lambda: (text, validate(text, path)), exclusive=True)

    def _show_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.validations += 1
        name = self.cortex.config_path.name
        self.query_one(YamlEditor).mark_lines({p.line for p in problems if p.file == name})
        self.query_one("#problems", Static).update(problems_text(problems))

    # -- actions --------------------------------------------------------------------------
    def action_save(self) -> None:
        text, path = self.text, self.cortex.config_path
        run_blocking(self, "save", lambda: (path.write_text(text, encoding="utf-8"), text)[1])

    def action_deploy(self) -> None:
        text, path, backend = self.text, self.cortex.config_path, self.cortex.backend
        self.query_one("#results", Static).update(Text("deploying...", style="yellow"))
        run_blocking(self, "deploy", lambda: (text, save_and_deploy(text, path, backend)),
                     exclusive=True)

    def action_next_problem(self) -> None:
        editor = self.query_one(YamlEditor)
        lines = sorted({p.line for p in self.problems if p.file == self.cortex.config_path.name})
        if not lines:
            return
        row = editor.cursor_location[0] + 1
        target = next((line for line in lines if line > row), lines[0])
        editor.move_cursor((target - 1, 0), center=True)

    def action_back(self) -> None:
        if self.dirty and not self._warned_unsaved and not self.cortex.readonly:
            self._warned_unsaved = True
            self.notify("unsaved changes: ctrl+s saves, esc again leaves without saving",
                        severity="warning")
            return
        self.dismiss(None)

    # -- results --------------------------------------------------------------------------
    def on_done(self, message: Done) -> None:
        group = message.group
        if group == "validate":
            text, problems = message.value
            if text == self.text:
                self._show_problems(problems)
        elif group == "save":
            self.saved_text = message.value
            self._show_title()
            self.notify(f"saved {self.cortex.config_path.name}")
            self.cortex.reload_project()
        elif group == "deploy":
            text, result = message.value
            self.saved_text = text
            self._show_title()
            self.query_one("#results", Static).update(
                Text("deployed\n", style="bold green") + Text(deploy_summary(result))
            )
            self.notify(deploy_summary(result), title="deployed")
            self.cortex.reload_project()
            self.cortex.refresh_views()
        else:
            return
        message.stop()

    def on_failed(self, message: Failed) -> None:
        if message.group == "deploy":
            self.query_one("#results", Static).update(
                Text("deploy failed\n", style="bold red") + Text(message.error)
            )
