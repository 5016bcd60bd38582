"""MemoryCompare: what we predicted beside what vLLM reported at startup."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import DataTable

from tui.core.estimate import Estimate
from tui.core.gpu_catalog import GiB

ROWS = (
    ("weights_gib", "weights", "Weights GiB"),
    ("activation_gib", "activation", "Activation GiB"),
    ("non_torch_gib", "non_torch", "Non-torch GiB"),
    ("cuda_graph_gib", "cuda_graph", "CUDA graphs GiB"),
    ("kv_cache_gib", "kv_cache", "KV cache GiB"),
    ("kv_cache_tokens", None, "KV tokens"),
    ("max_concurrency", None, "Max concurrency"),
)
LABELS_JA = {
    "Weights GiB": "重み GiB",
    "Activation GiB": "活性 GiB",
    "Non-torch GiB": "torch 外 GiB",
    "CUDA graphs GiB": "CUDA グラフ GiB",
    "KV cache GiB": "KV キャッシュ GiB",
    "KV tokens": "KV トークン数",
    "Max concurrency": "最大同時実行数",
}


def _whole(v: float) -> str:
    return f"{v:,.0f}"


def _two_places(v: float) -> str:
    return f"{v:,.2f}"


def comparison(
    predicted: Estimate | None, actual: dict[str, float]
) -> list[tuple[str, str, str, str]]:
    rows = []
    for key, term, label in ROWS:
        ours: float | None = None
        if predicted is not None:
            if term == "kv_cache":
                ours = predicted.kv_cache_bytes / GiB
            elif term is not None:
                ours = predicted.term(term).value / GiB
            elif key == "kv_cache_tokens":
                ours = predicted.kv.tokens
            else:
                ours = predicted.kv.max_concurrency
        theirs = actual.get(key)
        fmt = _whole if key == "kv_cache_tokens" else _two_places
        diff = ""
        if ours is not None and theirs:
            diff = f"{(ours - theirs) / theirs * 100:+.1f}%"
        rows.append(
            (
                label,
                fmt(ours) if ours is not None else "–",
                fmt(theirs) if theirs is not None else "–",
                diff,
            )
        )
    return rows


class MemoryCompare(DataTable[str]):
    DEFAULT_CSS = """
    MemoryCompare { height: auto; max-height: 11; border: round $primary 40%; border-title-color: $primary; }
    """

    predicted: reactive[Estimate | None] = reactive(None)
    actual: reactive[tuple[tuple[str, float], ...]] = reactive(())
    note: reactive[str] = reactive("")
    """Shown in the title (e.g. demo mode: the replayed log is another model's)."""

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def tr(self, en: str, ja: str) -> str:
        return ja if self.lang == "ja" else en

    def _title(self) -> None:
        self.border_title = self.tr("Memory: predicted vs vLLM", "メモリ: 予測と vLLM の実測") + (
            f" · {self.note}" if self.note else ""
        )

    def on_mount(self) -> None:
        self._title()
        self.cursor_type = "none"
        self.zebra_stripes = True
        self.add_columns("", self.tr("predicted", "予測"), "vLLM", self.tr("diff", "差"))
        self._fill()

    def watch_predicted(self) -> None:
        self._fill()

    def watch_actual(self) -> None:
        self._fill()

    def watch_note(self) -> None:
        if self.is_mounted:
            self._title()
            self._fill()

    def _fill(self) -> None:
        if not self.is_mounted:
            return
        self.clear()
        for label, ours, theirs, diff in comparison(self.predicted, dict(self.actual)):
            shown = LABELS_JA.get(label, label) if self.lang == "ja" else label
            self.add_row(shown, ours, theirs, "" if self.note else diff)
