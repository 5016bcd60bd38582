"""FlagForm: the catalog as a form (the guide's flags first, then by group), a search box,
and every other flag of the installed vLLM (found by searching, kept as passthrough).

The form is a view of the config: every row shows `config`'s value, whoever changed it. The
rows are drawn by one line-API widget (`FlagList`) and one editor sits over the focused row,
so the form costs what is on screen, not what is in the catalog. Text being typed that does
not parse yet stays in the editor with its error under it, and is reported to the Checks.
Which rows there are and what they show is worked out in `tui.widgets.flag_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive, var
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tui.core.catalog import BY_DEST, FlagSpec, t
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.messages import ExtraFlagChanged, FlagChanged, FlagFocused
from tui.widgets.flag_field import FlagEditor
from tui.widgets.flag_list import FlagList, Row, Shown, short_placeholder
from tui.widgets.flag_rows import (
    MAX_EXTRA,
    allowed_choices,
    build_rows,
    changed_dests,
    choices_by_name,
    editor_kind,
    is_echo,
    means,
    option_flag,
    option_is_switch,
    parse_typed,
    passthrough_values,
    scroll_target,
    set_passthrough,
    shown_for,
    suggestion_words,
)

__all__ = [
    "MAX_EXTRA",
    "FlagForm",
    "allowed_choices",
    "option_flag",
    "option_is_switch",
    "passthrough_values",
    "set_passthrough",
]


class FlagForm(Vertical):
    DEFAULT_CSS = """
    FlagForm { height: 1fr; border: round $primary 40%; border-title-color: $primary; layers: rows editor; }
    FlagForm #flag-search { margin: 0 1; background: $boost; layer: rows; }
    FlagForm #flag-search:focus { background: $accent 35%; }
    FlagForm FlagList { layer: rows; }
    FlagForm FlagEditor { layer: editor; }
    """

    class ErrorsChanged(Message):
        """The fields whose typed text does not parse: {flag: message}."""

        def __init__(self, errors: dict[str, str]) -> None:
            super().__init__()
            self.errors = errors

    config: var[ServeConfig | None] = var(None, init=False)
    lang: reactive[str] = reactive("en", init=False)
    extra_options: reactive[tuple[Mapping[str, Any], ...]] = reactive((), init=False)
    """Every option of the installed vLLM (empty until introspected)."""
    vllm_label: reactive[str] = reactive("", init=False)
    field_errors: var[tuple[tuple[str, str], ...]] = var((), init=False)
    """Checks' errors about one field's value ((dest, message)), shown under that field."""

    def __init__(self, config: ServeConfig, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(FlagForm.config, config)
        self.set_reactive(FlagForm.lang, lang)
        self.drafts: dict[str, tuple[str, str]] = {}
        """dest -> (typed text, error) while the text does not parse."""
        self.installed_choices: dict[str, tuple[str, ...]] = {}
        self._rows: tuple[Row, ...] = ()
        self._editing: str | None = None
        self._sent: list[tuple[str, Any]] = []
        """What the form asked to change (dest or flag, value): their echoes are no news."""

    # -- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._set_title()
        yield Input(placeholder=self._search_hint(), id="flag-search", compact=True)
        yield FlagList(id="flag-list")
        yield FlagEditor(id="flag-editor")

    def on_mount(self) -> None:
        self._ready = True  # `is_mounted` only turns true after this handler
        self._rebuild()
        self.watch(self.query_one(FlagList), "scroll_y", self._place_editor, init=False)

    def _set_title(self) -> None:
        self.border_title = t("Flags  (★ = in your guide)", "フラグ  (★ = ガイドのフラグ)").get(
            self.lang
        )

    def _search_hint(self) -> str:
        return t(
            "/ search flags (name or help, English/日本語)",
            "/ フラグを検索（名前・説明、日英）",
        ).get(self.lang)

    # -- rows ----------------------------------------------------------------------------

    def _build_rows(self, needle: str) -> tuple[Row, ...]:
        return build_rows(needle, self.lang, self.extra_options, self.vllm_label)

    def _shown(self, row: Row) -> Shown:
        cfg = self.config
        assert cfg is not None
        return shown_for(row, cfg, self.lang, self.drafts, self.field_errors)

    def refresh_rows(self) -> None:
        """Rebuild the rows (after the search text was set from outside)."""
        self._rebuild()

    _ready = False

    def _rebuild(self) -> None:
        if not self._ready:
            return
        needle = self.query_one("#flag-search", Input).value.strip().lower()
        key = self._editing
        self._rows = self._build_rows(needle)
        rows = self.query_one(FlagList)
        rows.set_rows(self._rows, {r.key: self._shown(r) for r in self._rows if r.editable})
        index = next((i for i, r in enumerate(self._rows) if r.key == key and r.editable), None)
        if index is None:
            index = next((i for i, r in enumerate(self._rows) if r.editable), -1)
        self._move_to(index, focus=False)

    # -- the view follows the config -----------------------------------------------------

    def watch_config(self, old: ServeConfig | None, cfg: ServeConfig | None) -> None:
        if cfg is None or not self.is_mounted:
            return
        changed = changed_dests(old, cfg)
        if old is not None and old.passthrough != cfg.passthrough:
            changed |= {r.key for r in self._rows if r.kind == "extra"}
        # A change that only echoes what was typed here leaves the typing alone; any other
        # (a fix, an import, a profile, a reset, F5 moving the port) replaces every field's
        # text with the config's, the focused one included.
        echo = is_echo(old, cfg, changed, self._sent)
        if not echo:
            changed |= set(self.drafts)
            self.drafts.clear()
            self._sent.clear()
        self._show(changed)
        self._sync_editor(changed, force=not echo)
        self._post_errors()

    def _send(self, dest: str, value: Any) -> None:
        self._sent = [*self._sent[-15:], (dest, value)]
        self.post_message(FlagChanged(dest, value))

    def _send_extra(self, flag: str, value: str | bool | None) -> None:
        self._sent = [*self._sent[-15:], (flag, value)]
        self.post_message(ExtraFlagChanged(flag, value))

    def watch_field_errors(
        self, old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]
    ) -> None:
        if self.is_mounted:
            self._show({d for d, _ in old} ^ {d for d, _ in new} | {d for d, _ in new})

    def _show(self, keys: set[str]) -> None:
        shown = {r.key: self._shown(r) for r in self._rows if r.key in keys and r.editable}
        if shown:
            self.query_one(FlagList).update_shown(shown)

    def _sync_editor(self, changed: set[str], force: bool = False) -> None:
        """Put the config's value in the editor when it changed underneath it."""
        key = self._editing
        if key is None or (key not in changed and not force):
            return
        editor = self.query_one(FlagEditor)
        row = next((r for r in self._rows if r.key == key), None)
        if row is None:
            return
        text = self._shown(row).text
        cfg = self.config
        typed = editor.value.strip()
        echoes = (
            not force
            and row.spec is not None
            and key not in self.drafts
            and cfg is not None
            and (editor.value == text or bool(typed and means(key, typed, cfg.get(key))))
        )
        if not echoes and editor.value != text:
            with editor.prevent(Input.Changed):
                editor.value = text
                editor.cursor_position = len(text)

    def watch_lang(self) -> None:
        if self.is_mounted:
            self._set_title()
            self.query_one("#flag-search", Input).placeholder = self._search_hint()
            self._rebuild()

    def watch_extra_options(self) -> None:
        self.installed_choices = choices_by_name(self.extra_options)
        self._rebuild()

    def watch_vllm_label(self) -> None:
        self._rebuild()

    # -- the editor ----------------------------------------------------------------------

    def focus_flag(self, key: str) -> FlagEditor:
        """Put the editor on flag `key` (a dest or an option name) and focus it."""
        index = next((i for i, r in enumerate(self._rows) if r.key == key and r.editable), None)
        if index is None:
            self.query_one("#flag-search", Input).value = ""
            self._rebuild()
            index = next(i for i, r in enumerate(self._rows) if r.key == key and r.editable)
        self._move_to(index, focus=True)
        return self.query_one(FlagEditor)

    def shown_value(self, key: str) -> str:
        """The text the form shows for `key` (the editor's when it is on that row)."""
        if key == self._editing:
            return self.query_one(FlagEditor).value
        row = next((r for r in self._rows if r.key == key), None)
        return self._shown(row).text if row is not None else ""

    def help_line(self, key: str) -> str:
        """The line under flag `key`: its summary, or what is wrong with its value."""
        row = next((r for r in self._rows if r.key == key), None)
        return self._shown(row).help if row is not None else ""

    def _move_to(self, index: int, focus: bool) -> None:
        rows = self.query_one(FlagList)
        editor = self.query_one(FlagEditor)
        if not 0 <= index < len(self._rows) or not self._rows[index].editable:
            self._editing = None
            rows.cursor = -1
            editor.display = False
            return
        row = self._rows[index]
        changed = row.key != self._editing
        self._editing = row.key
        rows.cursor = index
        editor.display = True
        shown = self._shown(row)
        editor.kind = editor_kind(row, shown.text)
        with editor.prevent(Input.Changed):
            editor.value = shown.text
            editor.full_placeholder = shown.placeholder
            editor.password = bool(row.spec and row.spec.secret)
            editor.suggester = self._suggester(row)
            editor.cursor_position = len(shown.text)
        line = rows.row_line(index)
        if focus:
            rows.scroll_to(
                y=scroll_target(line, rows.scroll_offset.y, rows.size.height, 2), animate=False
            )
            editor.focus()
        self._place_editor()
        if changed or focus:
            self.post_message(
                FlagFocused(
                    row.spec.dest if row.spec else None,
                    row.key if row.spec is None else row.spec.flag,
                )
            )

    def _suggester(self, row: Row) -> SuggestFromList | None:
        words = suggestion_words(row, self.installed_choices)
        return None if words is None else SuggestFromList(list(words), case_sensitive=False)

    def _place_editor(self, *_: object) -> None:
        rows = self.query_one(FlagList)
        editor = self.query_one(FlagEditor)
        index = rows.cursor
        if index < 0 or not rows.size.height:
            return
        y = rows.row_line(index) - rows.scroll_offset.y
        if not 0 <= y < rows.size.height:
            editor.styles.offset = (0, -100)
            return
        name_w = rows.name_cells()
        origin = self.content_region.offset
        x = rows.region.x - origin.x + name_w
        top = rows.region.y - origin.y + y
        width = max(1, rows.scrollable_content_region.width - name_w)
        editor.styles.width = width
        editor.placeholder = short_placeholder(editor.full_placeholder, width)
        editor.styles.offset = (x, top)

    def on_resize(self) -> None:
        self.call_after_refresh(self._place_editor)

    def on_flag_list_row_clicked(self, event: FlagList.RowClicked) -> None:
        self._move_to(event.index, focus=True)

    def on_flag_editor_move(self, event: FlagEditor.Move) -> None:
        event.stop()
        editable = [i for i, r in enumerate(self._rows) if r.editable]
        cursor = self.query_one(FlagList).cursor
        pos = editable.index(cursor) if cursor in editable else 0
        target = pos + event.delta
        if event.tab and not 0 <= target < len(editable):
            if target < 0:
                self.query_one("#flag-search", Input).focus()
            else:
                self.screen.focus_next()
            return
        target = max(0, min(len(editable) - 1, target))
        self._move_to(editable[target], focus=True)

    def on_flag_editor_focus_search(self, event: FlagEditor.FocusSearch) -> None:
        event.stop()
        self.query_one("#flag-search", Input).focus()

    def on_flag_editor_toggle(self, event: FlagEditor.Toggle) -> None:
        event.stop()
        row = next((r for r in self._rows if r.key == self._editing), None)
        if row is None or self.config is None:
            return
        if row.spec is not None:
            self._send(row.spec.dest, not bool(self.config.get(row.spec.dest)))
        else:
            on = passthrough_values(self.config.passthrough).get(row.key) is not None
            self._send_extra(row.key, None if on else True)

    def on_descendant_focus(self, event: Any) -> None:
        if isinstance(event.widget, FlagEditor):
            self.query_one(FlagList).cursor = self.query_one(FlagList).cursor
            self._place_editor()

    async def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "flag-search":
            self._rebuild()
            return
        if not isinstance(event.input, FlagEditor) or self._editing is None:
            return
        row = next((r for r in self._rows if r.key == self._editing), None)
        if row is None:
            return
        if row.spec is None:
            self._send_extra(row.key, event.value.strip() or None)
            return
        self._typed(row.spec, event.value)

    def _typed(self, spec: FlagSpec, text: str) -> None:
        raw = text.strip()
        had = spec.dest in self.drafts
        if not raw:
            self.drafts.pop(spec.dest, None)
            self._send(spec.dest, None)
        else:
            try:
                value = parse_typed(spec, raw, self.installed_choices, self.lang)
            except UserError as exc:
                self.drafts[spec.dest] = (raw, exc.message)
            else:
                self.drafts.pop(spec.dest, None)
                self._send(spec.dest, value)
        if had or spec.dest in self.drafts:
            self._show({spec.dest})
            self._post_errors()

    def _post_errors(self) -> None:
        errors = {BY_DEST[d].flag or d: message for d, (_, message) in self.drafts.items()}
        if errors != getattr(self, "_posted", None):
            self._posted = errors
            self.post_message(self.ErrorsChanged(errors))

    def reset_drafts(self) -> None:
        """Forget text that did not parse (the config was replaced as a whole)."""
        keys = set(self.drafts)
        self.drafts.clear()
        self._show(keys)
        self._sync_editor(keys)
        self._post_errors()
