"""ThroughputPanel: sparklines with current and peak values, from vLLM's stats lines and /metrics.

A sample field the source did not hold is skipped, never drawn as zero.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline, Static

from tui.core.logparse import Throughput
from tui.core.metrics import MetricsSample

SERIES = (
    ("prompt_tps", "prompt tok/s", "プロンプト tok/s"),
    ("gen_tps", "generation tok/s", "生成 tok/s"),
    ("running", "running", "実行中"),
    ("waiting", "waiting", "待機中"),
    ("kv_cache_usage_pct", "KV cache %", "KV キャッシュ %"),
    ("prefix_cache_hit_pct", "prefix hit %", "プレフィックス hit %"),
)


def sparkline_data(values: deque[float]) -> list[float]:
    """What the sparkline draws: nothing while every sample is zero (no solid bar of zeros)."""
    return list(values) if any(v != 0 for v in values) else []


def stats_disabled_notice(lang: str) -> str:
    if lang == "ja":
        return (
            "--disable-log-stats が指定されています: vLLM 0.32 では統計ログ行も /metrics の "
            "vllm: 系列もすべて出なくなるため、このパネルは空のままです。"
            "スループットを見るにはこのフラグを外して再起動してください。"
        )
    return (
        "--disable-log-stats is set: on vLLM 0.32 it removes the stats log lines and every "
        "vllm: series from /metrics, so this panel stays empty. Relaunch without it to see "
        "throughput."
    )


HISTORY = 120


@dataclass
class Series:
    values: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    peak: float | None = None

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.values.append(float(value))
        self.peak = value if self.peak is None else max(self.peak, value)


class ThroughputPanel(Vertical):
    DEFAULT_CSS = """
    ThroughputPanel { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    ThroughputPanel Grid { grid-size: 2; grid-gutter: 0 2; height: auto; }
    ThroughputPanel .series { height: 3; }
    ThroughputPanel Sparkline { height: 1; }
    ThroughputPanel Sparkline.-empty { visibility: hidden; }
    ThroughputPanel #latency { color: $text-muted; }
    ThroughputPanel #notice { color: $warning; }
    """

    stats_disabled: reactive[bool] = reactive(False)

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.series = {key: Series() for key, _, _ in SERIES}
        self.latency = ""

    def compose(self) -> ComposeResult:
        self.border_title = "スループット" if self.lang == "ja" else "Throughput"
        yield Static("", id="notice")
        with Grid():
            for key, en, ja in SERIES:
                with Vertical(classes="series"):
                    yield Label(self._label(key, ja if self.lang == "ja" else en), id=f"lbl-{key}")
                    yield Sparkline([], id=f"spark-{key}")
        yield Static("", id="latency")

    def _label(self, key: str, label: str) -> str:
        s = self.series[key]
        if not s.values:
            return f"{label}: –"
        peak = "最大" if self.lang == "ja" else "peak"
        return f"{label}: {s.values[-1]:,.1f}  ({peak} {s.peak:,.1f})"

    def add_log_sample(self, t: Throughput) -> None:
        for key, _, _ in SERIES:
            self.series[key].add(getattr(t, key))
        self._redraw()

    def add_metrics_sample(self, m: MetricsSample) -> None:
        # The log line already gives these every 10 s; /metrics adds what the log lacks.
        if not self.series["gen_tps"].values:
            for key, _, _ in SERIES:
                self.series[key].add(getattr(m, key, None))
        lat = []
        if m.ttft_p50_s is not None:
            lat.append(
                f"TTFT p50 {m.ttft_p50_s * 1000:.0f} ms / p99 {(m.ttft_p99_s or 0) * 1000:.0f} ms"
            )
        if m.itl_p50_s is not None:
            itl = "トークン間" if self.lang == "ja" else "inter-token"
            lat.append(
                f"{itl} p50 {m.itl_p50_s * 1000:.1f} ms / p99 {(m.itl_p99_s or 0) * 1000:.1f} ms"
            )
        if lat:
            self.latency = "  ·  ".join(lat)
        self._redraw()

    def watch_stats_disabled(self, value: bool) -> None:
        if self.is_mounted:
            self.query_one("#notice", Static).update(
                stats_disabled_notice(self.lang) if value else ""
            )

    def on_mount(self) -> None:
        self.watch_stats_disabled(self.stats_disabled)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        for key, en, ja in SERIES:
            self.query_one(f"#lbl-{key}", Label).update(
                self._label(key, ja if self.lang == "ja" else en)
            )
            spark = self.query_one(f"#spark-{key}", Sparkline)
            spark.data = sparkline_data(self.series[key].values)
            # Textual draws empty data as a baseline: all zeros show as nothing at all.
            spark.set_class(not spark.data, "-empty")
        self.query_one("#latency", Static).update(self.latency)
