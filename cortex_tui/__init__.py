"""cortex-tui: serve Python models as autoscaled HTTP APIs, locally or on Kubernetes."""

__version__ = "0.1.0"
