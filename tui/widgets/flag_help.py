"""FlagHelp: the focused flag's long help (English or Japanese), its memory effect, versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.catalog import BY_DEST


class FlagHelp(VerticalScroll):
    DEFAULT_CSS = """
    FlagHelp { height: 1fr; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    """

    dest: reactive[str | None] = reactive(None)
    """The focused catalog flag."""
    flag: reactive[str | None] = reactive(None)
    """The focused flag name when it is not in the catalog."""
    lang: reactive[str] = reactive("en")
    extra_options: reactive[tuple[Mapping[str, Any], ...]] = reactive(())

    def compose(self):  # type: ignore[no-untyped-def]
        self.border_title = "Help" if self.lang == "en" else "ヘルプ"
        yield Static(self.render_help(), id="help-body")

    def on_mount(self) -> None:
        self._update()

    def watch_dest(self) -> None:
        self._update()

    def watch_flag(self) -> None:
        self._update()

    def watch_lang(self) -> None:
        self._update()

    def _update(self) -> None:
        if not self.is_mounted:
            return
        self.border_title = "Help" if self.lang == "en" else "ヘルプ"
        self.query_one("#help-body", Static).update(self.render_help())

    def render_help(self) -> Content:
        lang = self.lang
        spec = BY_DEST.get(self.dest) if self.dest else None
        if spec is None:
            option = next((o for o in self.extra_options if self.flag in o.get("names", ())), None)
            if option is not None:
                return Content.assemble(
                    (" / ".join(option["names"]), "bold $accent"),
                    "\n\n",
                    str(option.get("help") or ""),
                    "\n\n",
                    ("(vLLM's own help text)", "$text-muted"),
                )
            hint = (
                "Focus a flag to read what it does."
                if lang == "en"
                else "フラグにフォーカスすると説明が表示されます。"
            )
            return Content(hint)
        parts: list[Any] = [(spec.flag or f"{spec.env}=True", "bold $accent")]
        if spec.aliases:
            parts.append(("  " + " ".join(spec.aliases), "$text-muted"))
        parts += ["\n", (spec.summary.get(lang), "bold"), "\n\n", spec.details.get(lang)]
        if spec.memory:
            parts += [
                "\n\n",
                ("Memory" if lang == "en" else "メモリ", "bold $warning"),
                ("\n" + spec.memory.get(lang), "$text"),
            ]
        for note in spec.versions:
            parts += [
                "\n",
                ("vLLM: " if lang == "en" else "vLLM: ", "bold $secondary"),
                note.text.get(lang),
            ]
        if spec.example:
            parts += [
                "\n\n",
                ("e.g. " if lang == "en" else "例: ", "$text-muted"),
                (spec.example, "$success"),
            ]
        return Content.assemble(*parts)


class FlagHelpPopup(ModalScreen[None]):
    """The focused flag's help over the screen (short terminals have no help pane)."""

    DEFAULT_CSS = """
    FlagHelpPopup { align: center middle; }
    FlagHelpPopup > VerticalScroll { width: 90%; max-width: 100; height: auto; max-height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,f10,q", "dismiss", "Close")]

    def __init__(self, body: Content) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Help (Esc)"
            box.border_subtitle = "Esc / F10"
            yield Static(self.body)
