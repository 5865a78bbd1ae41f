"""The Kubernetes target: render k8s_templates/, apply, status, logs, proxy, metrics.

Only `cortex_tui.backends.kubernetes` uses this package; the CLI and TUI go through the Backend.
"""
