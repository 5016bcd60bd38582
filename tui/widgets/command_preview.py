"""CommandPreview: the exact `vllm serve` command for the current config, secrets masked."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.catalog import t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.widgets.line_diff import LineDiff


def preview_text(
    cfg: ServeConfig,
    prefix: tuple[str, ...] | None = None,
    version: str | None = None,
    nodes: int = 1,
    gpus_per_node: int = 0,
) -> str:
    """What the preview shows and `copy` copies: env (masked) + the command; for a plan over
    several nodes, each node's part of the Ray bring-up (the command runs on the head).
    `prefix`: the command before the flags (default `vllm serve`)."""
    from tui.core.commands import SERVE, ray_bringup, render_bringup, shell_script

    prefix = prefix or SERVE
    if nodes > 1 and gpus_per_node:
        if world_size(cfg) == 1:
            return (
                f"# {nodes} nodes planned, but TP x PP x DP = 1 runs on one GPU: apply the\n"
                f"# check's fix (-tp {gpus_per_node} -pp {nodes}) for the bring-up of every node.\n"
                + preview_text(cfg, prefix, version)
            )
        scripts = ray_bringup(cfg, nodes, gpus_per_node, version=version, prefix=prefix)
        return render_bringup(scripts).split("\n", 1)[1]  # without the shebang
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
    nodes: reactive[int] = reactive(1, repaint=False)
    """Nodes of the plan (more than one shows the Ray bring-up of each node)."""
    gpus_per_node: reactive[int] = reactive(0, repaint=False)

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

    def watch_nodes(self) -> None:
        self._update()

    def watch_gpus_per_node(self) -> None:
        self._update()

    def _update(self) -> None:
        title = (
            t(
                f"Bring-up on {self.nodes} nodes, Ray (F3 export · Ctrl+Y copy)",
                f"{self.nodes} ノードの起動手順・Ray (F3 書き出し · Ctrl+Y コピー)",
            )
            if self.nodes > 1
            else t("Command (F3 export · Ctrl+Y copy)", "コマンド (F3 書き出し · Ctrl+Y コピー)")
        ).get(self.lang)
        if self.border_title != title:  # setting it repaints the whole panel
            self.border_title = title
        cfg = self.config
        text = (
            preview_text(
                cfg, version=self.version, nodes=self.nodes, gpus_per_node=self.gpus_per_node
            )
            if cfg is not None
            else ""
        )
        self._content = Content.styled(text, "$text")
        self._drawn.repaint(self, self._content)
