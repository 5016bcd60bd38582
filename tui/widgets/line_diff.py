"""Repaint only the lines of a panel that changed.

Textual repaints a whole widget when it is refreshed; over SSH every repainted cell costs
bytes. A panel whose text changes a little per keystroke (the estimate, the command) wraps
its new content, compares it with what it drew last, and refreshes just the changed rows, or
asks for a re-layout when its height changed.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.geometry import Region, Size
from textual.widget import Widget


def _key(line: Content) -> tuple[str, tuple[Any, ...]]:
    return line.plain, tuple(line.spans)


class LineDiff:
    """Remembers the wrapped lines a widget drew; `repaint` refreshes only what changed."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, tuple[Any, ...]]] | None = None
        self.width = -1

    def reset(self) -> None:
        self.lines = None

    def repaint(self, widget: Widget, content: Content) -> None:
        width = widget.size.width
        if width <= 0:
            self.lines = None
            widget.refresh(layout=True)
            return
        new = [_key(line) for line in content.wrap(width)]
        old = self.lines
        self.lines = new
        if old is None or width != self.width or len(old) != len(new):
            self.width = width
            widget.refresh(layout=True)
            return
        changed = [y for y, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if changed:
            widget.refresh(*(Region(0, y, width, 1) for y in changed))


class DrawnToWidth(Widget):
    """A widget whose content is drawn to its width (a bar): `drawn_width()` is the width it
    is being measured for while Textual lays it out, else its width. Measured at the width it
    still had, a narrower column got a wrapped bar: a row too many, blank at the foot."""

    _layout_width: int | None = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._layout_width = width
        try:
            return super().get_content_height(container, viewport, width)
        finally:
            self._layout_width = None

    def drawn_width(self) -> int:
        return self._layout_width or self.size.width
