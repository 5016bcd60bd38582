"""FlagEditor: the one editor of the flag form, placed over the row being edited.

The rows themselves are drawn by `FlagList`; only the focused row has a live widget. The
editor moves between rows with Up/Down/Tab, toggles a switch with Space/Enter, and leaves
for the search box on "/" unless the flag takes free text (a path may contain "/").
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input

from tui.core.catalog import FlagSpec, t
from tui.core.values import format_value

FREE_TEXT = ("str", "path", "list", "json")


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return " ".join(map(str, value))
    return format_value(value)


def default_text(spec: FlagSpec, lang: str = "en") -> str:
    d = spec.effective_default
    if spec.removed_in(None) is not None:
        return t("removed in new vLLM", "新しい vLLM では削除").get(lang)
    if d is None:
        return t("vLLM's", "vLLM の既定").get(lang)
    return display_value(d)


def shown_text(spec: FlagSpec, value: Any) -> str:
    """The value text a row shows for the config's value ("" = the placeholder)."""
    if spec.kind == "bool":
        return "on" if value else "off"
    if value == spec.effective_default and spec.tool_default is ...:
        return ""
    return display_value(value)


def placeholder(spec: FlagSpec, lang: str = "en") -> str:
    text = t("default: ", "既定: ").get(lang) + default_text(spec, lang)
    if spec.unit and spec.effective_default is not None:
        text += f" {spec.unit}"
    return text


class FlagEditor(Input):
    """The focused row's editor. `kind` is the row's value kind ("bool" toggles)."""

    DEFAULT_CSS = """
    FlagEditor { position: absolute; height: 1; border: none; padding: 0; }
    FlagEditor:focus { background: $accent 35%; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Previous flag", show=False),
        Binding("down", "move(1)", "Next flag", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
    ]

    class Move(Message):
        """Go `delta` rows up or down (Tab at the last row leaves the form: `wrap` False)."""

        def __init__(self, delta: int, tab: bool = False) -> None:
            super().__init__()
            self.delta = delta
            self.tab = tab

    class Toggle(Message):
        """Space/Enter on a switch row."""

    class FocusSearch(Message):
        """ "/" on a row that does not take free text."""

    kind: str = "str"
    full_placeholder: str = ""
    """The row's placeholder before it is shortened to the editor's width."""
    # The editor's box is fixed (one row, width set by the form): text growing inside it must
    # not re-lay out the form (that repaints the list's scrollbar on every key).
    virtual_size = Reactive(Size(0, 0), layout=False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(compact=True, id=id, select_on_focus=False)

    def action_move(self, delta: int) -> None:
        self.post_message(self.Move(delta))

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("tab", "shift+tab"):
            event.prevent_default()
            event.stop()
            self.post_message(self.Move(1 if event.key == "tab" else -1, tab=True))
            return
        if event.character == "/" and self.kind not in FREE_TEXT:
            event.prevent_default()
            event.stop()
            self.post_message(self.FocusSearch())
            return
        if self.kind == "bool":
            if event.key in ("space", "enter"):
                event.prevent_default()
                event.stop()
                self.post_message(self.Toggle())
                return
            if event.is_printable or event.key in ("backspace", "delete"):
                event.prevent_default()
                event.stop()
                return
        await super()._on_key(event)
