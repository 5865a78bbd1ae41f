"""Kubernetes manifests rendered by `cortex_tui.kube.render` (and `cortex-tui render`).

Each file is a plain manifest; a scalar that is exactly `${name}` is replaced by a value (which
may be a map or a list, or removes the key when the value is absent), and `${name}` inside a longer
string is replaced by text. See `cortex_tui/kube/render.py` for the values.
"""
