"""Delete with confirmation, --readonly, the command palette, switching target, help, keymap."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette

from cortex_tui.tui.screens.apis import ApisScreen
from cortex_tui.tui.screens.confirm import ConfirmScreen
from cortex_tui.tui.screens.detail import DetailScreen
from cortex_tui.tui.screens.editor import EditorScreen
from cortex_tui.tui.screens.help import HelpScreen
from cortex_tui.tui.widgets.api_table import ApiTable
from cortex_tui.tui.widgets.header import TargetHeader
from cortex_tui.tui.widgets.yaml_editor import YamlEditor
from tests.helpers.fake_backend import FakeBackend
from tests.tui.conftest import SIZE, palette, settle
from tests.tui.scenes import wait_until


def footer_keys(app) -> set[str]:
    return {
        active.binding.description
        for active in app.screen.active_bindings.values()
        if active.enabled and active.binding.show
    }


async def test_ctrl_d_asks_and_cancel_is_the_default(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("enter")  # Cancel has the focus
        await settle(pilot)
        assert fake.called("delete") == []
        await pilot.press("ctrl+d", "tab", "enter")
        await settle(pilot)
        assert [c.args for c in fake.called("delete")] == [("fraud-detector",)]
        assert "fraud-detector" not in {r.key.value for r in pilot.app.screen.query_one(
            ApiTable).ordered_rows}


async def test_readonly_hides_and_disables_every_mutating_action(make_app, fake, iris) -> None:
    before = iris.read_text()
    async with make_app(readonly=True).run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = footer_keys(pilot.app)
        assert {"Scale", "Delete", "Deploy"}.isdisjoint(shown)
        assert {"Logs", "Filter", "Editor"} <= shown
        assert "READ-ONLY" in str(pilot.app.screen.query_one(TargetHeader).render())
        await pilot.press("s", "ctrl+d", "f5")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ApisScreen)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EditorScreen)
        editor = pilot.app.screen.query_one(YamlEditor)
        assert editor.read_only
        assert {"Save", "Deploy"}.isdisjoint(footer_keys(pilot.app))
        await pilot.press("ctrl+s", "f5")
        await settle(pilot)
    assert not fake.called("scale") and not fake.called("delete") and not fake.called("deploy")
    assert iris.read_text() == before


async def test_palette_deploys_and_opens_an_api(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "dep", "Deploy")
        assert len(fake.called("deploy")) == 1
        await palette(pilot, "hous", "Open API housing-regressor")
        assert isinstance(pilot.app.screen, DetailScreen)
        assert pilot.app.screen.api == "housing-regressor"


async def test_each_failed_action_is_notified_under_its_own_title(make_app, fake) -> None:
    fake.fail.update(deploy="the target refused the deploy", delete="the target refused it")
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+d", "tab", "enter")
        await settle(pilot)
        said = {n.message: (n.title, n.severity) for n in pilot.app._notifications}
        assert said["the target refused the deploy"] == ("deploy failed", "error")
        assert said["the target refused it"] == ("error", "error")
        assert isinstance(pilot.app.screen, ApisScreen)


async def test_colon_opens_the_palette_and_delete_asks_first(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await pilot.press("escape")
        await palette(pilot, "del iris", "Delete API iris-classifier")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
    assert [c.args for c in fake.called("delete")] == [("iris-classifier",)]


async def test_readonly_palette_has_no_mutating_commands(make_app) -> None:
    from cortex_tui.tui.commands import CortexCommands

    async with make_app(readonly=True).run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = CortexCommands(pilot.app.screen)
        titles = [title for title, _help, _cb in provider._commands()]
        assert "Open API iris-classifier" in titles
        assert not any(t.startswith(("Deploy", "Delete")) for t in titles)


async def test_switch_target_uses_the_new_backend(make_app, tui_home: Path) -> None:
    (tui_home / "settings.yaml").write_text("environments:\n  prod:\n    namespace: cortex\n")
    prod = FakeBackend(n_apis=6, kind="kubernetes")
    asked: list[str] = []

    def factory(env: str) -> FakeBackend:
        asked.append(env)
        return prod

    async with make_app(backend_factory=factory).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "prod", "Switch target to prod")
        await settle(pilot)
        assert asked == ["prod"] and pilot.app.backend is prod and pilot.app.env == "prod"
        header = str(pilot.app.screen.query_one(TargetHeader).render())
        assert "prod / ns cortex · 3 nodes" in header
        assert pilot.app.screen.query_one(ApiTable).row_count == 6


async def test_switch_target_from_an_editor_with_unsaved_changes_warns_first(
    make_app, tui_home: Path, iris: Path
) -> None:
    from cortex_tui.tui.screens.editor import EditorScreen

    (tui_home / "settings.yaml").write_text("environments:\n  prod: {}\n")
    asked: list[str] = []

    def factory(env: str) -> FakeBackend:
        asked.append(env)
        return FakeBackend(kind="kubernetes")

    async with make_app(backend_factory=factory).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("x")  # an unsaved change
        await palette(pilot, "prod", "Switch target to prod")
        assert asked == [] and isinstance(pilot.app.screen, EditorScreen)
        assert any("unsaved changes" in n.message for n in pilot.app._notifications)
        await palette(pilot, "prod", "Switch target to prod")  # asked twice: goes
        assert asked == ["prod"] and not isinstance(pilot.app.screen, EditorScreen)


async def test_switch_target_without_another_target_says_how_to_add_one(
    make_app, tui_home: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "switch", "Switch target")
        (note,) = [n for n in pilot.app._notifications if n.title == "no other target"]
        assert str(tui_home / "settings.yaml") in note.message


async def test_switch_target_failure_keeps_the_old_backend(make_app, fake, tui_home) -> None:
    (tui_home / "settings.yaml").write_text("environments:\n  prod: {}\n")

    def factory(env: str) -> FakeBackend:
        return FakeBackend(fail={"target_info": "cluster unreachable"})

    async with make_app(backend_factory=factory).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "prod", "Switch target to prod")
        assert pilot.app.backend is fake
        assert any("cluster unreachable" in n.message for n in pilot.app._notifications)


async def test_help_lists_active_keys_with_ids(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        ids = list(pilot.app.screen.table.columns[2].cells)
        assert {"apis.scale", "apis.delete", "app.quit", "page.editor"} <= set(ids)
        assert "apis.clear_filter" not in ids  # no filter shown: esc does nothing here
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, ApisScreen)


async def test_help_in_a_dialog_lists_its_field_keys(make_app, tui_home: Path) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s", "question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        ids = set(pilot.app.screen.table.columns[2].cells)
        assert {"scale.next", "scale.previous", "scale.up", "scale.apply"} <= ids
        footnote = " ".join(str(w.render()) for w in pilot.app.screen.query("Static"))
        assert "keymap.yaml in $CORTEX_TUI_HOME" in footnote


async def test_keymap_file_rebinds_by_id(make_app, tui_home: Path) -> None:
    from cortex_tui.tui.keymap import load_keymap

    (tui_home / "keymap.yaml").write_text("apis.scale: x\n")
    async with make_app(keymap=load_keymap()).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        assert isinstance(pilot.app.screen, ApisScreen)
        await pilot.press("x")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ScaleScreen"


def test_bad_keymap_names_the_file(tui_home: Path) -> None:
    import pytest

    from cortex_tui.tui.keymap import KeymapError, load_keymap

    (tui_home / "keymap.yaml").write_text("apis.scale: [x]\n")
    with pytest.raises(KeymapError, match=r"keymap.yaml: apis.scale: keys must be"):
        load_keymap()


async def test_q_quits(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (None, 0)
    assert not app.is_running


def test_targets_offered_are_local_named_environments_and_kube_contexts(
    tui_home: Path, tmp_path: Path, monkeypatch
) -> None:
    from cortex_tui.backends import target_names

    (tui_home / "settings.yaml").write_text("environments:\n  prod: {context: eks}\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {}}]\n"
        "contexts:\n"
        "- {name: kind-dev, context: {cluster: c, user: u}}\n"
        "- {name: prod, context: {cluster: c, user: u}}\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert target_names() == ["local", "prod", "kind-dev"]
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    assert target_names() == ["local", "prod"]


def test_unknown_keymap_ids_are_named() -> None:
    from cortex_tui.tui.keymap import known_binding_ids, unknown_ids

    known = known_binding_ids()
    assert {"app.quit", "apis.scale", "editor.save", "scale.apply", "logs.wrap",
            "predict.send", "detail.metrics", "page.editor"} - known == set()
    assert unknown_ids({"apis.scale": "x", "apis.scael": "y"}) == ["apis.scael"]
