"""Screens of the TUI. `base.CortexScreen` hides mutating bindings with --readonly."""
