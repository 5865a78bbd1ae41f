"""The Textual application: owns the backend, the project path and the app-wide actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from cortex_tui.actions import deploy_summary
from cortex_tui.backends import Backend, get_backend
from cortex_tui.config.model import CONFIG_FILENAME, Project
from cortex_tui.tui.commands import CortexCommands
from cortex_tui.tui.log_follower import LogFollowers
from cortex_tui.tui.messages import (
    ActionFailed,
    Deleted,
    Deployed,
    ProjectLoaded,
    TargetSwitched,
    run_blocking,
)
from cortex_tui.tui.pages import page, page_bindings
from cortex_tui.tui.screens.base import readonly_allows
from cortex_tui.types import ApiState, DeployResult, TargetInfo

BackendFactory = Callable[[str], Backend]
REPEAT_AFTER = 30.0  # seconds before the same error is notified again


def config_path_for(path: str | Path) -> Path:
    """The cortex.yaml of `-p PATH` (a folder or the file itself)."""
    path = Path(path)
    return path if path.suffix in (".yaml", ".yml") else path / CONFIG_FILENAME


class CortexApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "cortex-tui"
    COMMANDS = App.COMMANDS | {CortexCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+p,colon", "command_palette", "Palette", id="app.palette", show=False),
        Binding("f5", "deploy", "Deploy", id="app.deploy"),
        *page_bindings(),
    ]
    # App-wide state that the header and screens watch (`self.watch(self.app, ...)`).
    target: var[TargetInfo | None] = var(None)  # last answer of backend.target_info()
    env: var[str] = var("local")
    readonly: var[bool] = var(False)
    # Last answer of backend.get(), by name; always_update: ages redraw on every refresh.
    states: var[dict[str, ApiState]] = var(dict, always_update=True)

    def __init__(
        self,
        backend: Backend,
        *,
        config_path: Path,
        env: str = "local",
        readonly: bool = False,
        backend_factory: BackendFactory = get_backend,
        clock: Callable[[], float] = time.time,
        refresh_interval: float | None = 1.0,
        keymap: dict[str, str] | None = None,
        startup_warning: str | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.config_path = config_path
        self.env = env
        self.readonly = readonly
        self.backend_factory = backend_factory
        self.clock = clock
        self.refresh_interval = refresh_interval
        self.project: Project | None = None
        self.log_followers = LogFollowers()
        self._last_errors: dict[str, float] = {}  # error text -> when it was last shown
        self._startup_warning = startup_warning
        self._pages: dict[str, Screen] = {}  # page id -> its screen when last opened
        if keymap:
            self.set_keymap(keymap)

    @property
    def project_root(self) -> Path:
        return self.config_path.parent

    def on_mount(self) -> None:
        from cortex_tui.tui.screens.apis import ApisScreen

        if self.readonly:
            self.sub_title = "read-only"
        self.push_screen(ApisScreen())
        self.reload_project()
        if self._startup_warning:
            self.notify(self._startup_warning, severity="warning", timeout=8)

    # -- app-wide actions ------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_page" and parameters:
            try:
                entry = page(str(parameters[0]))
            except KeyError:
                return False
            return not (self.readonly and entry.mutating) and not self._page_open(entry.id)
        return readonly_allows(self, action)

    def _unsaved_edits_warned(self) -> bool:
        """Leaving the editor's screen with unsaved changes warns once; True when it did."""
        from cortex_tui.tui.screens.editor import EditorScreen

        return any(
            isinstance(screen, EditorScreen) and screen.warn_unsaved()
            for screen in self.screen_stack
        )

    async def action_quit(self) -> None:
        if not self._unsaved_edits_warned():
            await super().action_quit()

    def _page_open(self, page_id: str) -> bool:
        """A page already in the stack is not opened again (two editors of one file...)."""
        screen = self._pages.get(page_id)
        return screen is not None and screen in self.screen_stack

    def action_open_page(self, page_id: str) -> None:
        if self._page_open(page_id):
            return
        screen = page(page_id).factory(self)
        self._pages[page_id] = screen
        self.push_screen(screen)

    def action_help(self) -> None:
        from cortex_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_deploy(self) -> None:
        if self.readonly:
            return
        self.notify("deploying...", timeout=2)
        run_blocking(self, Deployed, self._deploy, exclusive=True)

    def _deploy(self) -> DeployResult:
        from cortex_tui.config import load_project

        project = load_project(self.config_path)
        return self.backend.deploy(project)

    def open_api(self, api: str, tab: str = "overview", bench: bool = False) -> None:
        """The API's detail on `tab`; with `bench`, the load-test dialog opens over it."""
        from cortex_tui.tui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(api, tab=tab, bench=bench))

    def confirm_delete(self, api: str) -> None:
        from cortex_tui.tui.screens.confirm import ConfirmScreen

        if self.readonly:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                run_blocking(self, Deleted, lambda: self.backend.delete(api))

        self.push_screen(ConfirmScreen(f'Delete api "{api}"?', "Delete"), answered)

    def open_scale(self, state: ApiState) -> None:
        from cortex_tui.tui.screens.scale import ScaleScreen

        if not self.readonly:
            self.push_screen(ScaleScreen(state), lambda _: self.refresh_views())

    def switch_target(self, env: str) -> None:
        if self._unsaved_edits_warned():  # switching closes every screen but the APIs view
            return
        self.notify(f"connecting to {env}...", timeout=2)
        run_blocking(self, TargetSwitched, lambda: self._connect(env), exclusive=True)

    def _connect(self, env: str) -> tuple[str, Backend]:
        backend = self.backend_factory(env)
        backend.target_info()  # fail here, not on every refresh
        return env, backend

    def reload_project(self) -> None:
        run_blocking(self, ProjectLoaded, self._load_project)

    def _load_project(self) -> Project | None:
        from cortex_tui.config import validate_project

        if not self.config_path.exists():
            return None
        project, _problems = validate_project(self.config_path)
        return project

    # -- views ----------------------------------------------------------------------------
    @property
    def api_names(self) -> list[str]:
        return sorted(self.states)

    def refresh_views(self) -> None:
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_data", None)
            if refresh is not None:
                refresh()

    # -- results ------------------------------------------------------------------------
    def on_deployed(self, message: Deployed) -> None:
        self.notify(deploy_summary(message.value), title="deployed")
        self.reload_project()
        self.refresh_views()

    def on_deleted(self, message: Deleted) -> None:
        self.notify(f"deleted {', '.join(message.value) or 'nothing'}")
        self.refresh_views()

    def on_project_loaded(self, message: ProjectLoaded) -> None:
        self.project = message.value

    def on_target_switched(self, message: TargetSwitched) -> None:
        env, backend = message.value
        old, self.backend = self.backend, backend
        self.target = None
        self.env = env
        self.log_followers.stop_all()
        old.close()
        self.notify(f"target: {env}")
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.refresh_views()

    def on_action_failed(self, message: ActionFailed) -> None:
        # a target that is down fails every refresh: say it once per REPEAT_AFTER seconds
        now = time.monotonic()
        last = self._last_errors.get(message.error)
        if last is not None and now - last < REPEAT_AFTER:
            return
        self._last_errors[message.error] = now
        title = message.action.FAILED_TITLE
        self.notify(message.error, title=title, severity="error", timeout=8)
