"""PhaseBar: how far the server's startup got (phases ticked off, progress of the current one)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive

from tui.core.runstate import RunState
from tui.widgets.line_diff import DrawnToWidth

LABELS = {
    "config": ("config", "設定"),
    "downloading": ("download", "ダウンロード"),
    "loading": ("load weights", "重みの読み込み"),
    "loaded": ("weights loaded", "重み読み込み済み"),
    "profiling": ("profile memory", "メモリ計測"),
    "kv_cache": ("KV cache", "KV キャッシュ"),
    "compiling": ("compile", "コンパイル"),
    "cuda_graphs": ("CUDA graphs", "CUDA グラフ"),
    "engine_ready": ("engine ready", "エンジン準備完了"),
    "api_ready": ("API up", "API 起動"),
    "shutdown": ("shutdown", "シャットダウン"),
}
STATES_JA = {
    "starting": "起動中",
    "ready": "稼働中",
    "failed": "失敗",
    "stopping": "停止中",
    "stopped": "停止",
}
STATE_STYLE = {
    "starting": "$warning",
    "ready": "$success",
    "failed": "$error",
    "stopping": "$warning",
    "stopped": "$text-muted",
}


class PhaseBar(DrawnToWidth):
    DEFAULT_CSS = """
    PhaseBar { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    """

    state: reactive[RunState] = reactive(RunState, layout=True)
    live_progress: reactive[tuple[str, float | None] | None] = reactive(None)
    url: reactive[str] = reactive("")

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def label(self, name: str) -> str:
        en, ja = LABELS.get(name, (name, name))
        return ja if self.lang == "ja" else en

    def render(self) -> Content:
        st = self.state
        ja = self.lang == "ja"
        self.border_title = "サーバー" if ja else "Server"
        state = STATES_JA.get(st.state, st.state) if ja else st.state.upper()
        parts: list[Content | str | tuple[str, str]] = [
            (state, f"bold {STATE_STYLE.get(st.state, '$text')}"),
            f"  ·  vLLM {st.vllm_version or '?'}",
            (f"  {self.url}" if self.url else "", "$accent"),
            "\n",
        ]
        current = st.current_phase
        for p in st.phases:
            done = p.name != current or st.state in ("ready", "stopped")
            mark = "✓" if done else "›"
            style = "$success" if done else "bold $warning"
            parts += [(f"{mark} {self.label(p.name)}", style), "  "]
        live = self.live_progress
        progress = None
        name = current
        if live is not None:
            name, progress = live
        elif st.phase is not None:
            progress = st.phase.progress
        if st.state == "starting" and name:
            width = max(10, min(40, self.drawn_width() - 30))
            filled = int(width * (progress or 0))
            parts += [
                "\n",
                (self.label(name), "bold"),
                " ",
                ("█" * filled, "$accent"),
                ("░" * (width - filled), "$foreground 30%"),
            ]
            parts.append(f" {progress * 100:.0f}%" if progress is not None else " …")
        return Content.assemble(*parts)
