"""vLLM's Prometheus /metrics: parse a scrape, and derive rates and latency percentiles.

Names differ between versions (vllm:kv_cache_usage_perc vs vllm:gpu_cache_usage_perc,
inter_token_latency vs time_per_output_token); each value is looked up under every name it
has had. A value the scrape does not hold stays None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from tui.core.errors import UserError

KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "vllm:cpu_cache_usage_perc")
ITL = ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds")
TTFT = ("vllm:time_to_first_token_seconds",)
E2E = ("vllm:e2e_request_latency_seconds",)


@dataclass(frozen=True)
class Histogram:
    buckets: tuple[tuple[float, float], ...]
    """(upper bound, cumulative count), sorted, +Inf last."""
    count: float
    total: float

    def quantile(self, q: float) -> float | None:
        """Prometheus histogram_quantile: linear interpolation inside the bucket."""
        if not self.buckets or self.count <= 0:
            return None
        rank = q * self.count
        prev_bound, prev_count = 0.0, 0.0
        for bound, cum in self.buckets:
            if cum >= rank:
                if math.isinf(bound):
                    return prev_bound
                width = cum - prev_count
                if width <= 0:
                    return bound
                return prev_bound + (bound - prev_bound) * (rank - prev_count) / width
            prev_bound, prev_count = bound, cum
        return prev_bound

    def minus(self, older: Histogram | None) -> Histogram:
        """Observations since `older` (for percentiles over the last poll window)."""
        if older is None:
            return self
        old = dict(older.buckets)
        return Histogram(
            tuple((b, c - old.get(b, 0.0)) for b, c in self.buckets),
            self.count - older.count,
            self.total - older.total,
        )


@dataclass(frozen=True)
class Scrape:
    """One /metrics scrape, summed over engines/models."""

    time: float
    counters: Mapping[str, float] = field(default_factory=dict)
    gauges: Mapping[str, float] = field(default_factory=dict)
    histograms: Mapping[str, Histogram] = field(default_factory=dict)

    def value(self, *names: str) -> float | None:
        for n in names:
            if n in self.gauges:
                return self.gauges[n]
            if n in self.counters:
                return self.counters[n]
        return None

    def histogram(self, *names: str) -> Histogram | None:
        return next((self.histograms[n] for n in names if n in self.histograms), None)


def parse_scrape(text: str, now: float) -> Scrape:
    """Prometheus text -> Scrape, via prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    counters: dict[str, float] = {}
    gauges: dict[str, float] = {}
    hist_parts: dict[str, dict[str, object]] = {}
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises ValueError/TypeError on malformed text
        raise UserError(f"malformed /metrics output: {exc}") from None
    for fam in families:
        name = fam.name if fam.name.startswith("vllm:") else None
        if name is None:
            continue
        if fam.type == "counter":
            counters[name] = sum(s.value for s in fam.samples if s.name.endswith("_total"))
        elif fam.type == "gauge":
            gauges[name] = sum(s.value for s in fam.samples)
        elif fam.type == "histogram":
            buckets: dict[float, float] = {}
            count = total = 0.0
            for s in fam.samples:
                if s.name.endswith("_bucket"):
                    le = float(s.labels.get("le", "inf"))
                    buckets[le] = buckets.get(le, 0.0) + s.value
                elif s.name.endswith("_count"):
                    count += s.value
                elif s.name.endswith("_sum"):
                    total += s.value
            hist_parts[name] = {
                "buckets": tuple(sorted(buckets.items())),
                "count": count,
                "total": total,
            }
    histograms = {n: Histogram(p["buckets"], p["count"], p["total"]) for n, p in hist_parts.items()}  # type: ignore[arg-type]
    return Scrape(now, counters, gauges, histograms)


@dataclass(frozen=True)
class MetricsSample:
    """What the throughput panel shows from /metrics (None = not in this vLLM)."""

    prompt_tps: float | None = None
    gen_tps: float | None = None
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage_pct: float | None = None
    prefix_cache_hit_pct: float | None = None
    ttft_p50_s: float | None = None
    ttft_p99_s: float | None = None
    itl_p50_s: float | None = None
    itl_p99_s: float | None = None
    requests_total: float | None = None


def sample(current: Scrape, previous: Scrape | None) -> MetricsSample:
    """Rates from counter differences; percentiles over the window since `previous`."""
    dt = current.time - previous.time if previous else 0.0

    def rate(name: str) -> float | None:
        now = current.value(name)
        if previous is None or now is None or dt <= 0:
            return None
        before = previous.value(name)
        if before is None or now < before:  # restarted counter
            return None
        return (now - before) / dt

    usage = current.value(*KV_USAGE)
    hit = None
    if previous is not None:
        q = rate("vllm:prefix_cache_queries")
        h = rate("vllm:prefix_cache_hits")
        if q and h is not None:
            hit = 100.0 * h / q
    ttft = current.histogram(*TTFT)
    itl = current.histogram(*ITL)
    ttft_w = ttft.minus(previous.histogram(*TTFT) if previous else None) if ttft else None
    itl_w = itl.minus(previous.histogram(*ITL) if previous else None) if itl else None
    return MetricsSample(
        prompt_tps=rate("vllm:prompt_tokens"),
        gen_tps=rate("vllm:generation_tokens"),
        running=current.value("vllm:num_requests_running"),
        waiting=current.value("vllm:num_requests_waiting"),
        kv_cache_usage_pct=usage * 100.0 if usage is not None else None,
        prefix_cache_hit_pct=hit,
        ttft_p50_s=ttft_w.quantile(0.5) if ttft_w else None,
        ttft_p99_s=ttft_w.quantile(0.99) if ttft_w else None,
        itl_p50_s=itl_w.quantile(0.5) if itl_w else None,
        itl_p99_s=itl_w.quantile(0.99) if itl_w else None,
        requests_total=current.value("vllm:request_success"),
    )
