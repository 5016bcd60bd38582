"""CommandPreview: the exact `vllm serve` command for the current config, secrets masked."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.catalog import t
from tui.core.commands import SERVE, shell_script
from tui.core.config import ServeConfig
from tui.widgets.line_diff import LineDiff


def preview_text(
    cfg: ServeConfig, prefix: tuple[str, ...] = SERVE, version: str | None = None
) -> str:
    """What the preview shows and `copy` copies: env (masked) + the command."""
    script = shell_script(cfg, prefix, version=version)
    return "\n".join(
        line for line in script.splitlines() if not line.startswith(("#!", "set -euo"))
    )


class CommandPreview(Widget):
    """Repaints only the command's lines that changed (one per keystroke, usually)."""

    DEFAULT_CSS = """
    CommandPreview { height: auto; max-height: 14; border: round $primary 40%; border-title-color: $primary; padding: 0 1; overflow-y: auto; }
    """

    config: reactive[ServeConfig | None] = reactive(None, repaint=False)
    version: reactive[str | None] = reactive(None, repaint=False)
    lang: reactive[str] = reactive("en", repaint=False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = Content("")
        self._drawn = LineDiff()

    def render(self) -> Content:
        return self._content

    def watch_lang(self) -> None:
        self._update()

    def watch_config(self) -> None:
        self._update()

    def watch_version(self) -> None:
        self._update()

    def _update(self) -> None:
        title = t(
            "Command (F3 export · Ctrl+Y copy)", "コマンド (F3 書き出し · Ctrl+Y コピー)"
        ).get(self.lang)
        if self.border_title != title:  # setting it repaints the whole panel
            self.border_title = title
        cfg = self.config
        text = preview_text(cfg, version=self.version) if cfg is not None else ""
        self._content = Content.styled(text, "$text")
        self._drawn.repaint(self, self._content)
