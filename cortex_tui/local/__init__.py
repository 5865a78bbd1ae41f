"""The local target: an operator daemon that runs, heals and autoscales API replicas.

Layout of the state directory (`$CORTEX_TUI_HOME/local/`, see `paths.py`): the operator's
address and token, the desired state (`state.json`), project snapshots, replica logs and the
SQLite history. The CLI and the TUI reach this package only through
`cortex_tui.local.backend.LocalBackend`, which `cortex_tui.backends.get_backend` returns.
"""
