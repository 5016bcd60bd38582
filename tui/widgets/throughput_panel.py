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
    ("prompt_tps", "prompt tok/s"),
    ("gen_tps", "generation tok/s"),
    ("running", "running"),
    ("waiting", "waiting"),
    ("kv_cache_usage_pct", "KV cache %"),
    ("prefix_cache_hit_pct", "prefix hit %"),
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
    ThroughputPanel #latency { color: $text-muted; }
    ThroughputPanel #notice { color: $warning; }
    """

    stats_disabled: reactive[bool] = reactive(False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series = {key: Series() for key, _ in SERIES}
        self.latency = ""

    def compose(self) -> ComposeResult:
        self.border_title = "Throughput"
        yield Static("", id="notice")
        with Grid():
            for key, label in SERIES:
                with Vertical(classes="series"):
                    yield Label(self._label(key, label), id=f"lbl-{key}")
                    yield Sparkline([], id=f"spark-{key}")
        yield Static("", id="latency")

    def _label(self, key: str, label: str) -> str:
        s = self.series[key]
        if not s.values:
            return f"{label}: –"
        return f"{label}: {s.values[-1]:,.1f}  (peak {s.peak:,.1f})"

    def add_log_sample(self, t: Throughput) -> None:
        for key, _ in SERIES:
            self.series[key].add(getattr(t, key))
        self._redraw()

    def add_metrics_sample(self, m: MetricsSample) -> None:
        # The log line already gives these every 10 s; /metrics adds what the log lacks.
        if not self.series["gen_tps"].values:
            for key, _ in SERIES:
                self.series[key].add(getattr(m, key, None))
        lat = []
        if m.ttft_p50_s is not None:
            lat.append(
                f"TTFT p50 {m.ttft_p50_s * 1000:.0f} ms / p99 {(m.ttft_p99_s or 0) * 1000:.0f} ms"
            )
        if m.itl_p50_s is not None:
            lat.append(
                f"inter-token p50 {m.itl_p50_s * 1000:.1f} ms / p99 {(m.itl_p99_s or 0) * 1000:.1f} ms"
            )
        if lat:
            self.latency = "  ·  ".join(lat)
        self._redraw()

    def watch_stats_disabled(self, value: bool) -> None:
        if self.is_mounted:
            self.query_one("#notice", Static).update(
                "--disable-log-stats is set: vLLM prints no stats lines; only /metrics feeds this panel."
                if value
                else ""
            )

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        for key, label in SERIES:
            self.query_one(f"#lbl-{key}", Label).update(self._label(key, label))
            self.query_one(f"#spark-{key}", Sparkline).data = list(self.series[key].values)
        self.query_one("#latency", Static).update(self.latency)
