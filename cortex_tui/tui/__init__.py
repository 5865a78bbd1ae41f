"""The Textual TUI. `run_tui` is what `cortex-tui` runs without a sub-command."""

from __future__ import annotations

from cortex_tui.backends import get_backend


def run_tui(path: str = ".", env: str = "local", readonly: bool = False) -> int:
    from cortex_tui.tui.app import CortexApp, config_path_for
    from cortex_tui.tui.keymap import KeymapError, keymap_file, load_keymap, unknown_ids

    warning = None
    try:
        keymap = load_keymap()
    except KeymapError as exc:
        keymap, warning = {}, f"{exc} (default keys in use)"
    unknown = unknown_ids(keymap) if keymap else []
    if unknown:
        warning = f"{keymap_file()}: unknown binding id {', '.join(unknown)} (see ? for ids)"
    backend = get_backend(env)
    app = CortexApp(
        backend,
        config_path=config_path_for(path),
        env=env,
        readonly=readonly,
        keymap=keymap,
        startup_warning=warning,
    )
    try:
        app.run()
    finally:
        app.log_followers.stop_all()
        app.backend.close()  # the one in use: the palette may have switched targets
    return app.return_code or 0


__all__ = ["run_tui"]
