"""VramPanel: where each GPU's memory goes for the current flags, and what that buys:
a stacked bar (weights, activation, non-torch, CUDA graphs, KV cache, left free) against the
budget, KV tokens, concurrency, the largest length that fits, the three-state verdict
(starts / borderline / won't start) and the band. Every figure carries its provenance mark:
none = vLLM's own arithmetic, ≈ derived from vLLM's code, ~ a guess with a band."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive

from tui.core.catalog.spec import Text, t
from tui.widgets.line_diff import DrawnToWidth, LineDiff

if TYPE_CHECKING:  # the estimator loads after the first frame, with the first plan
    from tui.core.plan import PlanResult

SEGMENTS = (
    ("weights", t("Weights", "重み"), "$primary"),
    ("activation", t("Activation", "活性"), "$secondary"),
    ("non_torch", t("Non-torch", "torch外"), "$warning"),
    ("cuda_graph", t("CUDA graphs", "CUDAグラフ"), "$accent"),
    ("kv_cache", t("KV cache", "KVキャッシュ"), "$success"),
)


def bar(result: PlanResult, width: int) -> Content:
    est = result.estimate
    assert est is not None
    # Scale to what is drawn when the terms exceed the GPU (a plan that fails), so the bar
    # never runs past the panel's border.
    drawn = sum(max(0.0, est.term(k).value) for k, _, _ in SEGMENTS if k != "kv_cache")
    total = max(est.total_bytes, int(drawn + est.kv_cache_bytes))
    parts: list[tuple[str, str]] = []
    used = 0
    for key, _, style in SEGMENTS:
        term = est.term(key)
        value = max(0.0, term.value) if key != "kv_cache" else float(est.kv_cache_bytes)
        if key == "cuda_graph" and not est.cuda_graph_in_budget:
            value = 0.0  # drawn separately below: outside the budget
        cells = int(round(width * value / total)) if total else 0
        if value > 0 and cells == 0:
            cells = 1
        parts.append(("█" * cells, style))
        used += cells
    budget_cells = int(round(width * est.budget_bytes / total))
    rest = max(0, width - used)
    headroom = max(0, min(rest, budget_cells - used))
    free_style = {"starts": "$success 40%", "borderline": "$warning 60%"}.get(est.state, "$error")
    parts.append(("▒" * headroom, free_style))
    parts.append(("░" * max(0, rest - headroom), "$foreground 30%"))
    return Content.assemble(*parts).truncate(width)


class VramPanel(DrawnToWidth):
    DEFAULT_CSS = """
    VramPanel { height: auto; min-height: 8; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    VramPanel.-fails { border: round $error; }
    VramPanel.-borderline { border: round $warning; }
    """

    result: reactive[PlanResult | None] = reactive(None, repaint=False)
    """Repainted line by line in watch_result."""
    lang: reactive[str] = reactive("en")

    _drawn: LineDiff | None = None

    def watch_result(self, result: PlanResult | None) -> None:
        # Repaint only the lines that changed (a keystroke changes two or three of them).
        if self._drawn is None:
            self._drawn = LineDiff()
        state = result.estimate.state if result is not None and result.estimate else None
        self.set_class(state == "wont_start", "-fails")
        self.set_class(state == "borderline", "-borderline")
        self._drawn.repaint(self, self.render())

    def tr(self, en: str, ja: str) -> str:
        return ja if self.lang == "ja" else en

    def render(self) -> Content:
        title = "VRAM per GPU" if self.lang == "en" else "GPU ごとの VRAM"
        if self.border_title != title:  # setting it repaints the whole panel
            self.border_title = title
        r = self.result
        if r is None:  # the first frame: the first plan follows it
            return Content.styled(self.tr("estimating…", "見積もり中…"), "$text-muted")
        from tui.core.gpu_catalog import GiB
        from tui.core.memory_model import PROVENANCE_MARK, PROVENANCE_TEXT

        est = r.estimate
        if est is None:
            reasons = [f.message.get(self.lang) for f in r.findings if f.level == "error"]
            return Content.assemble(
                (self.tr("No estimate: ", "見積もりなし: "), "bold $error"),
                "; ".join(reasons) or self.tr("waiting for a model", "モデルを待っています"),
            )
        width = max(10, self.drawn_width() - 2)

        def gib(b: float) -> str:
            return f"{b / GiB:.1f}"

        count = f"{est.num_gpus} x " if est.num_gpus > 1 else ""
        budget = self.tr("budget", "予算")
        planning = self.tr(" · planning", " · 計画")
        lines: list[Content | str | tuple[str, str]] = [
            Content.assemble(
                (f"{count}{est.gpu}", "bold"),
                f" · {gib(est.total_bytes)} GiB · {budget} {gib(est.budget_bytes)} GiB",
                (planning if r.planning else "", "$text-muted"),
            ),
            "\n",
            bar(r, width),
            "\n",
            # The verdict right under the bar: on a short terminal it is what must stay visible.
            verdict_line(est.state, est.verdict, self.lang, [f.message for f in r.findings]),
            "\n",
        ]
        for key, label, style in SEGMENTS:
            term = est.term(key)
            value = est.kv_cache_bytes if key == "kv_cache" else term.value
            mark = PROVENANCE_MARK[term.provenance]
            lines += [("█ ", style), f"{label.get(self.lang)} {mark}{gib(value)}  "]
        if est.term("cuda_graph").value and not est.cuda_graph_in_budget:
            lines += [
                "\n",
                (
                    self.tr(
                        f"CUDA graphs (~{gib(est.term('cuda_graph').value)} GiB) come on top of the budget in this vLLM",
                        f"この vLLM では CUDA グラフ（約 {gib(est.term('cuda_graph').value)} GiB）は予算の外です",
                    ),
                    "$text-muted",
                ),
            ]
        kv = est.kv
        lo, hi = est.kv_low.tokens, est.kv_high.tokens
        kv_kind = "fp8" if est.kv_element_bytes == 1 else f"{est.kv_element_bytes:g} B"
        lines += [
            "\n",
            (self.tr("KV tokens ", "KV トークン "), "bold"),
            (f"{kv.tokens:,}", "bold $success"),
            self.tr(
                f"  (band {lo:,}–{hi:,}) · {kv.bytes_per_token / 1024:.1f} KiB/token · {kv_kind} KV",
                f"  （幅 {lo:,}–{hi:,}）· {kv.bytes_per_token / 1024:.1f} KiB/トークン · {kv_kind} KV",
            ),
            "\n",
            (self.tr("Concurrency ", "同時実行 "), "bold"),
            self.tr(
                f"{kv.max_concurrency:.2f}x at {est.max_model_len:,} tokens · largest length that fits {kv.max_fitting_len:,}",
                f"{est.max_model_len:,} トークンで {kv.max_concurrency:.2f} 倍 · 収まる最大長 {kv.max_fitting_len:,}",
            ),
        ]
        if self.app.size.height >= LEGEND_MIN_HEIGHT:
            lines += [
                "\n",
                (
                    "≈ "
                    + PROVENANCE_TEXT["derived"].get(self.lang)
                    + " · ~ "
                    + PROVENANCE_TEXT["guess"].get(self.lang)
                    + " · "
                    + self.tr("unmarked: ", "印なし: ")
                    + PROVENANCE_TEXT["vllm"].get(self.lang),
                    "$text-muted",
                ),
            ]
        return Content.assemble(*lines)


LEGEND_MIN_HEIGHT = 30
"""Below this terminal height the marks' legend is left to F7, so the figures stay in view."""

STATE_TEXT = {
    "starts": t("starts", "起動できる"),
    "borderline": t("borderline", "ぎりぎり"),
    "wont_start": t("won't start", "起動できない"),
}
VERDICT_STYLE = {
    "starts": ("✓ ", "bold $success"),
    "borderline": ("≈ ", "bold $warning"),
    "wont_start": ("✗ ", "bold $error"),
}


def verdict_line(
    state: str, sentence: str, lang: str = "en", known: Iterable[Text] = ()
) -> tuple[str, str]:
    """The verdict with its state's mark, bilingual name and colour; the detail after the
    state is the estimator's own sentence, in `lang` (`known`: the findings' messages, one of
    which can be the reason)."""
    from tui.core.estimate_text import bilingual

    mark, style = VERDICT_STYLE.get(state, VERDICT_STYLE["wont_start"])
    label = STATE_TEXT.get(state, STATE_TEXT["wont_start"]).get(lang)
    detail = sentence.split(": ", 1)[1] if ": " in sentence else sentence
    return f"{mark}{label}: {bilingual(detail, known).get(lang)}", style
