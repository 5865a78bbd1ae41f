"""The Kubernetes target: render k8s_templates/, apply, status, logs, proxy, metrics.

Only `kube.backend.KubernetesBackend` (reached through `cortex_tui.backends.get_backend`) uses
this package from outside; the CLI and TUI go through the Backend.
"""
