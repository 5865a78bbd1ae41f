"""A YAML TextArea whose problem lines are marked (red gutter, tinted line)."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.strip import Strip

from cortex_tui.tui.widgets.text_area import OrderedTextArea

GUTTER_MARK = Style(bgcolor="red", color="white", bold=True)
LINE_MARK = Style(bgcolor="#4a1515")


class YamlEditor(OrderedTextArea):
    BINDINGS = [
        # priority: TextArea handles esc itself before non-priority bindings are looked at
        Binding("escape", "done", "Done editing", id="editor.done", priority=True),
    ]

    def action_done(self) -> None:
        """Leave the text for the problems panel: the screen's keys (esc back) work again."""
        self.screen.set_focus(self.screen.query_one("#side"))

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(
            text,
            language="yaml",
            show_line_numbers=True,
            tab_behavior="indent",
            soft_wrap=False,
            theme="monokai",
            **kwargs,
        )
        self.cursor_blink = False
        self.problem_lines: frozenset[int] = frozenset()  # 1-based

    def mark_lines(self, lines: set[int]) -> None:
        if frozenset(lines) != self.problem_lines:
            self.problem_lines = frozenset(lines)
            self._line_cache.clear()
            self.refresh()

    def _render_line(self, y: int) -> Strip:
        strip = super()._render_line(y)
        if not self.problem_lines:
            return strip
        try:
            info = self.wrapped_document._offset_to_line_info[y + self.scroll_offset.y]
        except IndexError:
            return strip
        if info is None or info[0] + 1 not in self.problem_lines:
            return strip
        gutter = self.gutter_width
        segments = [
            Segment(text, (style or Style()) + (GUTTER_MARK if i < gutter else LINE_MARK))
            for i, text, style in _cells(strip)
        ]
        return Strip(segments, strip.cell_length)


def _cells(strip: Strip) -> list[tuple[int, str, Style | None]]:
    """Each segment with the cell it starts at (the gutter is the first segment)."""
    out: list[tuple[int, str, Style | None]] = []
    x = 0
    for segment in strip:
        out.append((x, segment.text, segment.style))
        x += segment.cell_length
    return out
