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
        fmt = (lambda v: f"{v:,.0f}") if key == "kv_cache_tokens" else (lambda v: f"{v:,.2f}")
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


class MemoryCompare(DataTable):
    DEFAULT_CSS = """
    MemoryCompare { height: auto; max-height: 11; border: round $primary 40%; border-title-color: $primary; }
    """

    predicted: reactive[Estimate | None] = reactive(None)
    actual: reactive[tuple[tuple[str, float], ...]] = reactive(())
    note: reactive[str] = reactive("")
    """Shown in the title (e.g. demo mode: the replayed log is another model's)."""

    def on_mount(self) -> None:
        self.border_title = "Memory: predicted vs vLLM" + (f" · {self.note}" if self.note else "")
        self.cursor_type = "none"
        self.zebra_stripes = True
        self.add_columns("", "predicted", "vLLM", "diff")
        self._fill()

    def watch_predicted(self) -> None:
        self._fill()

    def watch_actual(self) -> None:
        self._fill()

    def watch_note(self) -> None:
        if self.is_mounted:
            self.border_title = "Memory: predicted vs vLLM" + (
                f" · {self.note}" if self.note else ""
            )
            self._fill()

    def _fill(self) -> None:
        if not self.is_mounted:
            return
        self.clear()
        for label, ours, theirs, diff in comparison(self.predicted, dict(self.actual)):
            self.add_row(label, ours, theirs, "" if self.note else diff)
