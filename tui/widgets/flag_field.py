"""FlagField: one catalog flag in the form: its control (built from the spec's kind), default,
one-line help, and a type error shown as you type."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static, Switch

from tui.core.catalog import FlagSpec
from tui.core.errors import UserError
from tui.core.values import coerce, format_value
from tui.messages import FlagChanged, FlagFocused

SMALL_CHOICE = 12


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return " ".join(map(str, value))
    return format_value(value)


def default_text(spec: FlagSpec) -> str:
    d = spec.effective_default
    if spec.removed_in(None) is not None:
        return "removed in new vLLM"
    if d is None:
        return "vLLM's"
    return display_value(d)


class FlagField(Vertical):
    """A row for `spec`; `value` is the config's effective value (set by the form)."""

    DEFAULT_CSS = """
    FlagField { height: auto; padding: 0 0 0 1; }
    FlagField > Horizontal { height: auto; }
    FlagField .flag-name { width: 30; padding: 0 1 0 0; color: $text; }
    FlagField.-seed .flag-name { text-style: bold; }
    FlagField.-set .flag-name { color: $accent; }
    FlagField Input, FlagField Select { width: 1fr; }
    FlagField Input { background: $boost; }
    FlagField Switch { margin: 0 1; height: 1; border: none; padding: 0; }
    FlagField .flag-help { color: $text-muted; padding-left: 1; height: auto; }
    FlagField.-invalid .flag-help { color: $error; }
    FlagField.-invalid Input { background: $error 30%; }
    """

    value: reactive[Any] = reactive(None, init=False)
    lang: reactive[str] = reactive("en", init=False)

    def __init__(self, spec: FlagSpec, value: Any, lang: str, is_set: bool) -> None:
        super().__init__(id=f"field-{spec.dest}")
        self.spec = spec
        self.set_reactive(FlagField.value, value)
        self.set_reactive(FlagField.lang, lang)
        self.set_class(spec.seed, "-seed")
        self.set_class(is_set, "-set")

    # -- composition -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.spec
        name = s.flag or f"{s.env}"
        with Horizontal():
            yield Label(("★ " if s.seed else "  ") + name, classes="flag-name")
            yield from self._control()
        yield Static(self._help_line(), classes="flag-help")

    def _control(self) -> ComposeResult:
        s = self.spec
        v = self.value
        if s.kind == "bool":
            yield Switch(value=bool(v), id=f"ctl-{s.dest}")
        elif s.kind == "choice" and not s.open_choices and len(s.choices) <= SMALL_CHOICE:
            options = [(display_value(c), c) for c in s.choices]
            yield Select(
                options,
                value=v if v in s.choices else Select.NULL,
                prompt=f"default ({default_text(s)})",
                id=f"ctl-{s.dest}",
                compact=True,
            )
        else:
            suggester = (
                SuggestFromList([str(c) for c in s.choices], case_sensitive=False)
                if s.choices
                else None
            )
            yield Input(
                value=display_value(v)
                if v != s.effective_default or s.tool_default is not ...
                else "",
                placeholder=f"default: {default_text(s)}"
                + (f" {s.unit}" if s.unit and s.effective_default is not None else ""),
                password=s.secret,
                suggester=suggester,
                id=f"ctl-{s.dest}",
                compact=True,
            )

    def _help_line(self) -> str:
        """The one-line help, or the type error while the value does not parse."""
        return self._error or self.spec.summary.get(self.lang)

    def watch_lang(self) -> None:
        if self.is_mounted:
            self.query_one(".flag-help", Static).update(self._help_line())

    def watch_value(self, value: Any) -> None:
        """Reflect an external change (a fix applied, an import) unless the user is typing."""
        if not self.is_mounted:
            return
        ctl = self.query_one(f"#ctl-{self.spec.dest}")
        if ctl.has_focus:
            return
        if isinstance(ctl, Switch):
            ctl.value = bool(value)
        elif isinstance(ctl, Select):
            ctl.value = value if value in self.spec.choices else Select.NULL
        elif isinstance(ctl, Input):
            text = (
                ""
                if value == self.spec.effective_default and self.spec.tool_default is ...
                else display_value(value)
            )
            if ctl.value != text:
                try:
                    same = text == "" and ctl.value == "" or coerce(self.spec, ctl.value) == value
                except UserError:
                    same = False
                if not same:
                    ctl.value = text
        self._set_invalid(None)

    # -- events -------------------------------------------------------------------------

    _error: str | None = None

    def _set_invalid(self, message: str | None) -> None:
        if message == self._error:
            return  # no restyle, no re-layout on every keystroke
        self._error = message
        self.set_class(message is not None, "-invalid")
        self.query_one(".flag-help", Static).update(self._help_line())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        raw = event.value.strip()
        if not raw:
            self._set_invalid(None)
            self.post_message(FlagChanged(self.spec.dest, None))
            return
        try:
            parsed: Any = coerce(self.spec, raw.split() if self.spec.kind == "list" else raw)
        except UserError as exc:
            self._set_invalid(exc.message)
            return
        self._set_invalid(None)
        self.post_message(FlagChanged(self.spec.dest, parsed))

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.post_message(FlagChanged(self.spec.dest, event.value))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(
            FlagChanged(self.spec.dest, None if event.value is Select.NULL else event.value)
        )

    def on_descendant_focus(self, event: Any) -> None:
        self.post_message(FlagFocused(self.spec.dest, self.spec.flag))
