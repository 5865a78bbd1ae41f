"""Widgets of the TUI; they hold view state only (data arrives through messages)."""
