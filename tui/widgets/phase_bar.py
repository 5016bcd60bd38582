"""PhaseBar: how far the server's startup got (phases ticked off, progress of the current one)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.runstate import RunState

LABELS = {
    "config": "config",
    "downloading": "download",
    "loading": "load weights",
    "loaded": "weights loaded",
    "profiling": "profile memory",
    "kv_cache": "KV cache",
    "compiling": "compile",
    "cuda_graphs": "CUDA graphs",
    "engine_ready": "engine ready",
    "api_ready": "API up",
    "shutdown": "shutdown",
}
STATE_STYLE = {
    "starting": "$warning",
    "ready": "$success",
    "failed": "$error",
    "stopping": "$warning",
    "stopped": "$text-muted",
}


class PhaseBar(Widget):
    DEFAULT_CSS = """
    PhaseBar { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    """

    state: reactive[RunState] = reactive(RunState, layout=True)
    live_progress: reactive[tuple[str, float | None] | None] = reactive(None)
    url: reactive[str] = reactive("")

    def render(self) -> Content:
        st = self.state
        self.border_title = "Server"
        parts: list[Content | str | tuple[str, str]] = [
            (st.state.upper(), f"bold {STATE_STYLE.get(st.state, '$text')}"),
            f"  ·  vLLM {st.vllm_version or '?'}",
            (f"  {self.url}" if self.url else "", "$accent"),
            "\n",
        ]
        current = st.current_phase
        for p in st.phases:
            done = p.name != current or st.state in ("ready", "stopped")
            mark = "✓" if done else "›"
            style = "$success" if done else "bold $warning"
            parts += [(f"{mark} {LABELS.get(p.name, p.name)}", style), "  "]
        live = self.live_progress
        progress = None
        name = current
        if live is not None:
            name, progress = live
        elif st.phase is not None:
            progress = st.phase.progress
        if st.state == "starting" and name:
            width = max(10, min(40, self.size.width - 30))
            filled = int(width * (progress or 0))
            parts += [
                "\n",
                (LABELS.get(name, name), "bold"),
                " ",
                ("█" * filled, "$accent"),
                ("░" * (width - filled), "$foreground 30%"),
            ]
            parts.append(f" {progress * 100:.0f}%" if progress is not None else " …")
        return Content.assemble(*parts)
