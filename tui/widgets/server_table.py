"""ServerTable: one row per watched server (name, model, state, gen tok/s sparkline,
running/waiting, KV %, p50 TTFT), from the samples the watch screen hands it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.content import Content
from textual.widgets import DataTable

from tui.core.catalog.spec import Text, t
from tui.core.watchstate import WatchSample

COLUMNS: tuple[tuple[str, Text, Text], ...] = (
    ("server", t("Server", "サーバー"), t("Server", "サーバー")),
    ("model", t("Model", "モデル"), t("Model", "モデル")),
    ("state", t("State", "状態"), t("State", "状態")),
    ("gen", t("Gen tok/s", "生成 tok/s"), t("Gen tok/s", "生成tok/s")),
    ("queue", t("Run/Wait", "実行/待機"), t("R/W", "実/待")),
    ("kv", t("KV %", "KV %"), t("KV %", "KV %")),
    ("ttft", t("TTFT p50", "TTFT p50"), t("TTFT", "TTFT")),
)
"""(key, title, title when narrow)."""
NARROW = {"server": 14, "model": 11, "state": 9, "gen": 11, "queue": 7, "kv": 5, "ttft": 7}
"""Column widths that fit 80 columns (cells are padded by one on each side)."""
WIDE = {"server": 30, "model": 40, "state": 13, "gen": 24, "queue": 10, "kv": 7, "ttft": 10}
SPARK = {"narrow": 4, "wide": 16}
STATE_TEXT: dict[str, Text] = {
    "ready": t("ready", "稼働中"),
    "unhealthy": t("unhealthy", "異常"),
    "unreachable": t("no answer", "接続不可"),
    "unauthorized": t("401 key?", "401 キー?"),
    "not_found": t("404", "404"),
    "not_vllm": t("not vLLM", "vLLM でない"),
    "bad_metrics": t("no metrics", "指標なし"),
    "waiting": t("…", "…"),
}
STATE_STYLE = {"ready": "$success", "unhealthy": "$error", "unreachable": "$error"}
BARS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int = 8) -> str:
    """A one-line sparkline of the last `width` values (blank while all are zero)."""
    tail = list(values)[-width:]
    top = max(tail, default=0.0)
    if top <= 0:
        return " " * width
    bars = "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] for v in tail)
    return bars.rjust(width)


def short_url(url: str) -> str:
    return url.removeprefix("http://")


def row(
    url: str, history: Iterable[WatchSample], lang: str, width: int = 8
) -> tuple[str | Content, ...]:
    samples = list(history)
    last = samples[-1] if samples else None
    gen = [s.metrics.gen_tps for s in samples if s.metrics and s.metrics.gen_tps is not None]
    state = last.state if last else "waiting"
    label = STATE_TEXT.get(state, t(state, state)).get(lang)
    style = STATE_STYLE.get(state, "$warning")
    m = last.metrics if last else None

    def num(value: float | None, fmt: str) -> str:
        return "–" if value is None else format(value, fmt)

    ttft = None if m is None or m.ttft_p50_s is None else m.ttft_p50_s * 1000
    model = (last.facts.model if last else None) or "–"
    if width < 8:  # narrow: the repo name without its organisation
        model = model.rsplit("/", 1)[-1]
    return (
        short_url(url),
        model,
        Content.styled(label, style),
        f"{spark(gen, width)} {num(gen[-1] if gen else None, '6.1f'):>6}",
        f"{num(m.running if m else None, 'g')}/{num(m.waiting if m else None, 'g')}",
        num(m.kv_cache_usage_pct if m else None, ".1f"),
        "–" if ttft is None else f"{ttft:.0f} ms",
    )


class ServerTable(DataTable[str | Content]):
    DEFAULT_CSS = """
    ServerTable { height: 1fr; }
    """

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.lang = lang

    def on_mount(self) -> None:
        self.set_columns()

    @property
    def wide(self) -> bool:
        return self.app.size.width >= 120

    def set_columns(self) -> None:
        widths = WIDE if self.wide else NARROW
        for key, title, narrow in COLUMNS:
            label = title if self.wide else narrow
            self.add_column(label.get(self.lang), key=key, width=widths[key])

    def show(self, url: str, history: Iterable[WatchSample]) -> None:
        """Add or refresh the row of `url`."""
        cells = row(url, history, self.lang, SPARK["wide" if self.wide else "narrow"])
        if url in {k.value for k in self.rows}:
            for (key, _, _), value in zip(COLUMNS, cells, strict=True):
                self.update_cell(url, key, value)
        else:
            self.add_row(*cells, key=url)

    @property
    def selected_url(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value
