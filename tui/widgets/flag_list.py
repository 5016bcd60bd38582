"""FlagList: every flag row of the form drawn with Textual's line API (as `OptionList` and
`DataTable` are): only the rows on screen are rendered, one widget for the whole list.

A row is a group title, a catalog flag (name, value, one-line help or the type error) or a
flag of the installed vLLM that the catalog does not model. The values shown are given by
the form (`values`, `errors`); this widget keeps no state of its own besides the cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rich.cells import cell_len
from textual.content import Content
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.core.catalog import FlagSpec

RowKind = Literal["title", "flag", "extra", "note"]


@dataclass(frozen=True)
class Row:
    kind: RowKind
    key: str
    """dest of a catalog flag, the option name of an extra flag, or the title text."""
    spec: FlagSpec | None = None
    option: Mapping[str, Any] | None = None

    @property
    def editable(self) -> bool:
        return self.kind in ("flag", "extra")

    @property
    def label(self) -> str:
        if self.spec is not None:
            return ("★ " if self.spec.seed else "  ") + (self.spec.flag or f"{self.spec.env}")
        return "  " + self.key if self.kind == "extra" else self.key


@dataclass(frozen=True)
class Shown:
    """What a flag row shows: its value text (or the placeholder) and the help line."""

    text: str
    placeholder: str
    help: str
    error: bool = False
    is_set: bool = False


def short_placeholder(text: str, width: int) -> str:
    """'default: 0.92' as '0.92' where there is no room for the word (80 columns)."""
    if cell_len(text) > width and ": " in text:
        return text.split(": ", 1)[1]
    return text


class FlagList(ScrollView, can_focus=False):
    """Rows of the form. Clicking a row posts `RowClicked`; the form moves the editor there."""

    COMPONENT_CLASSES = {
        "flag-list--title",
        "flag-list--name",
        "flag-list--seed",
        "flag-list--set",
        "flag-list--value",
        "flag-list--placeholder",
        "flag-list--help",
        "flag-list--error",
        "flag-list--cursor",
        "flag-list--note",
    }
    DEFAULT_CSS = """
    FlagList { height: 1fr; overflow-x: hidden; }
    FlagList > .flag-list--title { color: $secondary; text-style: bold; }
    FlagList > .flag-list--name { color: $text; }
    FlagList > .flag-list--seed { text-style: bold; }
    FlagList > .flag-list--set { color: $accent; }
    FlagList > .flag-list--value { background: $boost; }
    FlagList > .flag-list--placeholder { color: $text-muted; background: $boost; }
    FlagList > .flag-list--help { color: $text-muted; }
    FlagList > .flag-list--error { color: $error; }
    FlagList > .flag-list--cursor { background: $primary 25%; }
    FlagList > .flag-list--note { color: $text-muted; }
    """

    class RowClicked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    cursor: reactive[int] = reactive(-1, init=False)
    """Index of the row being edited (-1: none)."""
    compact: reactive[bool] = reactive(False, init=False)
    """One line per flag (the help goes to the help pane): short terminals."""
    name_width: reactive[int] = reactive(30, init=False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[Row, ...] = ()
        self.shown: dict[str, Shown] = {}
        self._lines: list[tuple[int, int]] = []
        self._first_line: list[int] = []
        self._styles: dict[tuple[str, ...], Any] = {}
        self._name_cells: tuple[tuple[object, int, int], int] | None = None

    # -- the form sets these ------------------------------------------------------------

    def set_rows(self, rows: tuple[Row, ...], shown: dict[str, Shown]) -> None:
        self.rows = rows
        self.shown = shown
        self._layout_lines()
        self.refresh()

    def update_shown(self, changed: dict[str, Shown]) -> None:
        """New text for some rows: repaint only those rows' lines."""
        relayout = any(
            (self.shown.get(k) is None) or (self.shown[k].help != v.help)
            for k, v in changed.items()
        )
        self.shown.update(changed)
        if relayout and not self.compact:
            pass  # help lines are one line each: the line count does not change
        for index, row in enumerate(self.rows):
            if row.key in changed:
                self.refresh_lines(self._first_line[index], self._height(row))

    def row_line(self, index: int) -> int:
        """First virtual line of row `index`."""
        return self._first_line[index] if 0 <= index < len(self._first_line) else 0

    def _height(self, row: Row) -> int:
        if row.kind == "flag" and not self.compact:
            return 2
        return 1

    def _layout_lines(self) -> None:
        lines: list[tuple[int, int]] = []
        first: list[int] = []
        for index, row in enumerate(self.rows):
            if row.kind == "title" and index > 0:
                lines.append((-1, 0))  # a blank line above a group title
            first.append(len(lines))
            lines += [(index, part) for part in range(self._height(row))]
        self._lines, self._first_line = lines, first
        size = Size(self.size.width, len(lines))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def watch_compact(self) -> None:
        self._layout_lines()
        self.refresh()

    def watch_name_width(self) -> None:
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        for index in (old, new):
            if 0 <= index < len(self.rows):
                self.refresh_lines(self._first_line[index], self._height(self.rows[index]))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._lines))

    _last_sizes: tuple[Size, Size] | None = None

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # A re-layout elsewhere on the screen (the estimate panel growing a line) reaches
        # here with the compositor's idea of our virtual size; the rows did not change, so
        # do not repaint the scrollbar for it.
        if (size, container_size) == self._last_sizes:
            return False
        self._last_sizes = (size, container_size)
        return super()._size_updated(size, virtual_size, container_size, layout)

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        base = self.rich_style
        if not 0 <= line < len(self._lines) or self._lines[line][0] < 0:
            return Strip.blank(width, base)
        index, part = self._lines[line]
        row = self.rows[index]
        content = self._render_row(row, part, width, index == self.cursor)
        return Strip(
            content.render_segments(self.visual_style), content.cell_length
        ).adjust_cell_length(width, base)

    def _style(self, *names: str) -> Any:
        # Looked up once per combination (a screenful of rows asks for a handful of them).
        style = self._styles.get(names)
        if style is None:
            style = self._styles[names] = self.get_visual_style(*(f"flag-list--{n}" for n in names))
        return style

    def notify_style_update(self) -> None:
        self._styles = {}
        super().notify_style_update()

    def _render_row(self, row: Row, part: int, width: int, at_cursor: bool) -> Content:
        if row.kind == "title":
            return Content.styled(" " + row.key, self._style("title")).truncate(width)
        if row.kind == "note":
            return Content.styled(" " + row.key, self._style("note")).truncate(width)
        shown = self.shown.get(row.key) or Shown("", "", "")
        if part == 1:
            style = self._style("error") if shown.error else self._style("help")
            return Content.styled("  " + shown.help, style).truncate(width, ellipsis=True)
        names = ["name"]
        if row.spec is not None and row.spec.seed:
            names.append("seed")
        if shown.is_set:
            names.append("set")
        if at_cursor:
            names.append("cursor")
        name_w = self.name_cells()
        label = Content(" " + row.label).truncate(name_w - 1, ellipsis=True)
        label = label.pad_right(name_w - label.cell_length)
        value_w = max(1, width - name_w)
        if shown.text:
            value = Content.styled(shown.text, self._style("value")).truncate(
                value_w, ellipsis=True
            )
        else:
            value = Content.styled(
                short_placeholder(shown.placeholder, value_w), self._style("placeholder")
            ).truncate(value_w, ellipsis=True)
        value = value.pad_right(value_w - value.cell_length)
        if shown.error and row.kind == "flag" and self.compact:
            value = value.stylize(self._style("error"))
        return Content.assemble(label.stylize(self._style(*names)), value)

    def name_cells(self) -> int:
        """Width of the name column: the longest name shown, within what the width allows."""
        width = self.scrollable_content_region.width
        key = (self.rows, width, self.name_width)  # asked once per row drawn
        if self._name_cells is None or self._name_cells[0] != key:
            longest = max((cell_len(r.label) for r in self.rows if r.editable), default=20) + 2
            self._name_cells = (key, max(8, min(self.name_width, longest, width - 6)))
        return self._name_cells[1]

    # -- input ---------------------------------------------------------------------------

    def row_at(self, y: int) -> int | None:
        line = self.scroll_offset.y + y
        if 0 <= line < len(self._lines) and self._lines[line][0] >= 0:
            index = self._lines[line][0]
            return index if self.rows[index].editable else None
        return None

    def on_click(self, event: Click) -> None:
        index = self.row_at(event.y)
        if index is not None:
            self.post_message(self.RowClicked(index))
