"""The command palette (`ctrl+p` or `:`): deploy, delete, switch target, open an API or a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cortex_tui.backends import target_names
from cortex_tui.settings import settings_file

if TYPE_CHECKING:
    from cortex_tui.tui.app import CortexApp

Command = tuple[str, str, Callable[[], object]]
NO_OTHER_TARGET = (
    "No other target yet: add an environment to {settings} or a context to your kubeconfig"
)


class CortexCommands(Provider):
    @property
    def cortex(self) -> CortexApp:
        return cast("CortexApp", self.app)

    def _commands(self) -> list[Command]:
        from cortex_tui.tui.pages import PAGES

        app = self.cortex
        commands: list[Command] = []
        if not app.readonly:
            commands.append(("Deploy", "Deploy cortex.yaml to the target", app.action_deploy))
        for entry in PAGES:
            if not (app.readonly and entry.mutating):
                commands.append(
                    (f"Open {entry.title}", entry.help, partial(app.action_open_page, entry.id))
                )
        for api in app.api_names:
            commands.append((f"Open API {api}", "Details, metrics, logs, predict",
                             partial(app.open_api, api)))
        others = [env for env in target_names() if env != app.env]
        for env in others:
            commands.append((f"Switch target to {env}", "Show the APIs of another target",
                             partial(app.switch_target, env)))
        if not others:  # say how to get one rather than offer nothing
            hint = NO_OTHER_TARGET.format(settings=settings_file())
            commands.append(("Switch target", hint, partial(
                app.notify, hint, title="no other target", severity="warning", timeout=8
            )))
        if not app.readonly:
            for api in app.api_names:
                commands.append((f"Delete API {api}", "Asks first",
                                 partial(app.confirm_delete, api)))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
