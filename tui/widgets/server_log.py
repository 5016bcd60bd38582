"""ServerLog: a bounded view of the server's log (the full log stays on disk).

Follows the tail only while you are at the bottom; otherwise counts "N new lines". Filter by
level and text; errors and warnings are highlighted; secret values are masked on screen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Input, RichLog, Select, Static

from tui.core.logparse import split_line

MAX_VIEW = 5000
MAX_KEEP = 20000
LEVELS = {
    "en": (("all", "all"), ("warnings+", "warning"), ("errors", "error")),
    "ja": (("すべて", "all"), ("警告以上", "warning"), ("エラー", "error")),
}
RANK = {"DEBUG": 0, "INFO": 1, None: 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 3}


def line_level(text: str) -> str | None:
    level = split_line(text).level
    if level is None and ("Traceback" in text or "Error:" in text):
        return "ERROR"
    return level


class ServerLog(Vertical):
    DEFAULT_CSS = """
    ServerLog { height: 1fr; border: round $primary 40%; border-title-color: $primary; }
    ServerLog #log-bar { height: auto; }
    ServerLog #log-filter { width: 1fr; }
    ServerLog #log-level { width: 20; }
    ServerLog RichLog { height: 1fr; background: $surface; }
    ServerLog #log-badge { display: none; background: $accent; color: $text; width: auto; padding: 0 1; dock: bottom; offset-x: 2; }
    ServerLog.-behind #log-badge { display: block; }
    """

    new_lines: reactive[int] = reactive(0)
    log_path: reactive[str] = reactive("")

    def __init__(self, redact: Iterable[str] = (), lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.wrap = False
        """Wrap long lines (w) so a whole line can be read without scrolling sideways."""
        self.kept: deque[tuple[str | None, str]] = deque(maxlen=MAX_KEEP)
        self.redact = tuple(s for s in redact if s)
        self.filter_text = ""
        self.min_rank = 0
        self.following = True
        """Follow the tail; off once you scroll up, on again when you reach the end."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-bar"):
            yield Input(
                placeholder=self.tr("filter log text", "ログを絞り込む"),
                id="log-filter",
                compact=True,
            )
            yield Select(
                LEVELS.get(self.lang, LEVELS["en"]),
                value="all",
                allow_blank=False,
                id="log-level",
                compact=True,
            )
        yield RichLog(
            max_lines=MAX_VIEW, wrap=self.wrap, markup=False, auto_scroll=True, id="log-view"
        )
        yield Static("", id="log-badge")

    def on_mount(self) -> None:
        self._title()

    def watch_log_path(self) -> None:
        self._title()

    def tr(self, en: str, ja: str) -> str:
        return ja if self.lang == "ja" else en

    def _title(self) -> None:
        full = self.tr("full log", "全ログ")
        wrap = self.tr("w: wrap", "w: 折り返し")
        self.border_title = (
            self.tr("Log", "ログ")
            + (f" · {full}: {self.log_path}" if self.log_path else "")
            + f" · {wrap}"
        )

    def toggle_wrap(self) -> None:
        """Wrap long lines (or not) and redraw what is kept."""
        self.wrap = not self.wrap
        self.query_one(RichLog).wrap = self.wrap
        self._refilter()

    def _mask(self, text: str) -> str:
        for secret in self.redact:
            text = text.replace(secret, "****")
        return text

    def _styled(self, level: str | None, text: str) -> Content:
        if level in ("ERROR", "CRITICAL"):
            return Content.styled(text, "$error")
        if level == "WARNING":
            return Content.styled(text, "$warning")
        return Content(text)

    def _write(self, view: RichLog, level: str | None, text: str) -> None:
        width = view.scrollable_content_region.width - 1 if self.wrap else 0
        if width < 10 or len(text) <= width:
            view.write(self._styled(level, text))
            return
        for start in range(0, len(text), width):  # wrapped by hand: cut at the width
            view.write(self._styled(level, text[start : start + width]))

    def _visible(self, level: str | None, text: str) -> bool:
        if RANK.get(level, 1) < self.min_rank:
            return False
        return not self.filter_text or self.filter_text in text.lower()

    def add_lines(self, lines: Iterable[str]) -> None:
        """Append a batch (the caller batches at ~10 Hz)."""
        view = self.query_one(RichLog)
        view.auto_scroll = self.following
        shown = 0
        for raw in lines:
            text = self._mask(raw)
            level = line_level(text)
            self.kept.append((level, text))
            if self._visible(level, text):
                self._write(view, level, text)
                shown += 1
        if not self.following and shown:
            self.new_lines += shown

    def watch_new_lines(self, count: int) -> None:
        self.set_class(count > 0, "-behind")
        if self.is_mounted:
            self.query_one("#log-badge", Static).update(
                self.tr(f"{count} new lines ↓ (End)", f"新しい行 {count} ↓ (End)")
            )

    def on_mouse_scroll_up(self) -> None:
        self.following = False

    def on_mouse_scroll_down(self) -> None:
        self.call_after_refresh(self._check_bottom)

    def on_key(self, event: events.Key) -> None:
        if event.key in ("up", "pageup", "home"):
            self.following = False
        elif event.key in ("end", "pagedown", "down"):
            self.call_after_refresh(self._check_bottom)

    def _check_bottom(self) -> None:
        view = self.query_one(RichLog)
        if view.scroll_y >= view.max_scroll_y - 1:
            self.following = True
            self.new_lines = 0
            view.auto_scroll = True

    def jump_to_end(self) -> None:
        view = self.query_one(RichLog)
        view.scroll_end(animate=False)
        view.auto_scroll = True
        self.following = True
        self.new_lines = 0

    def _refilter(self) -> None:
        view = self.query_one(RichLog)
        view.clear()
        for level, text in list(self.kept)[-MAX_VIEW:]:
            if self._visible(level, text):
                self._write(view, level, text)
        self.jump_to_end()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value.strip().lower()
        self._refilter()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.min_rank = {"all": 0, "warning": 2, "error": 3}.get(str(event.value), 0)
        self._refilter()
