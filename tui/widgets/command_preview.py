"""CommandPreview: the exact `vllm serve` command for the current config, secrets masked."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui.core.catalog import t
from tui.core.commands import SERVE, shell_script
from tui.core.config import ServeConfig


def preview_text(
    cfg: ServeConfig, prefix: tuple[str, ...] = SERVE, version: str | None = None
) -> str:
    """What the preview shows and `copy` copies: env (masked) + the command."""
    script = shell_script(cfg, prefix, version=version)
    return "\n".join(
        line for line in script.splitlines() if not line.startswith(("#!", "set -euo"))
    )


class CommandPreview(Static):
    DEFAULT_CSS = """
    CommandPreview { height: auto; max-height: 14; border: round $primary 40%; border-title-color: $primary; padding: 0 1; overflow-y: auto; }
    """

    config: reactive[ServeConfig | None] = reactive(None)
    version: reactive[str | None] = reactive(None)
    lang: reactive[str] = reactive("en")

    def watch_lang(self) -> None:
        self._update()

    def watch_config(self) -> None:
        self._update()

    def watch_version(self) -> None:
        self._update()

    def _update(self) -> None:
        self.border_title = t(
            "Command (F3 export · Ctrl+Y copy)", "コマンド (F3 書き出し · Ctrl+Y コピー)"
        ).get(self.lang)
        cfg = self.config
        if cfg is None:
            self.update("")
            return
        text = preview_text(cfg, version=self.version)
        lines = text.count("\n")
        self.update(Content.styled(text, "$text"), layout=lines != getattr(self, "_lines", -1))
        self._lines = lines
