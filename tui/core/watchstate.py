"""Watching a vLLM server we did not start: what its HTTP answers mean, when to ask again,
and the one JSON line per sample that scripts read.

Pure: the adapter (tui.adapters.remote) does the HTTP and hands the answers here as
`Probe` values; nothing in this module does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tui.core.metrics import E2E, MetricsSample, Scrape

STATES = (
    "ready",
    "unhealthy",
    "unreachable",
    "unauthorized",
    "not_found",
    "not_vllm",
    "bad_metrics",
)
"""What a watched server can be; everything but "ready" keeps being retried with backoff."""

NOT_AVAILABLE = {
    "memory": "the startup memory report (weights, KV cache, CUDA graphs) is only in the server's log"
}
"""What the monitor shows for a launched server that no HTTP endpoint gives."""

PREEMPTIONS = ("vllm:num_preemptions", "vllm:num_preemptions_total")


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange: a status code (None = no answer) and either a body or an error."""

    status: int | None = None
    body: str = ""
    data: Any = None
    error: str | None = None
    """Why there is no usable answer (refused, timed out, body too large...)."""


@dataclass(frozen=True)
class Probe:
    """Everything one poll asked the server."""

    health: Answer
    version: Answer = field(default_factory=Answer)
    models: Answer = field(default_factory=Answer)
    metrics: Answer = field(default_factory=Answer)
    scrape: Scrape | None = None
    """/metrics parsed (None when it was missing, malformed or too large)."""


@dataclass(frozen=True)
class ServerFacts:
    model: str | None = None
    served_models: tuple[str, ...] = ()
    max_model_len: int | None = None
    vllm_version: str | None = None


@dataclass(frozen=True)
class WatchSample:
    """One poll of one server, as the table, the monitor and `--json` show it."""

    url: str
    time: float
    state: str
    message: str = ""
    facts: ServerFacts = field(default_factory=ServerFacts)
    metrics: MetricsSample | None = None
    e2e_p50_s: float | None = None
    e2e_p99_s: float | None = None
    preemptions_total: float | None = None
    retry_in_s: float | None = None
    failures: int = 0
    healthy: bool | None = None
    """/health answered 2xx (None = no answer at all)."""

    @property
    def ok(self) -> bool:
        return self.state == "ready"


def classify(probe: Probe, known_vllm: bool = False) -> tuple[str, str]:
    """(state, one-line message) from what the server answered. `known_vllm`: this URL was a
    vLLM server at an earlier poll (a vLLM stopping or restarting answers /health alone)."""
    h = probe.health
    if h.status is None:
        return "unreachable", h.error or "no answer"
    if h.status in (401, 403):
        return "unauthorized", _auth_message(h.status, "/health")
    if h.status == 404:
        return "not_found", "404 at /health: give the server's base URL (http://host:port)"
    if h.status >= 500:
        return "unhealthy", f"/health answered {h.status}: the engine is not serving"
    if not 200 <= h.status < 300:
        return "not_vllm", f"/health answered {h.status}: not a vLLM server?"
    if not _looks_like_vllm(probe) and known_vllm:
        return "unhealthy", "answers /health but not /version, /v1/models or /metrics: stopping?"
    if not _looks_like_vllm(probe):
        return "not_vllm", "answers /health but has no vLLM /version, /v1/models or vllm: metrics"
    for path, ans in (("/v1/models", probe.models), ("/metrics", probe.metrics)):
        if ans.status in (401, 403):
            return "unauthorized", _auth_message(ans.status, path)
    if probe.metrics.error:
        return "bad_metrics", f"/metrics: {probe.metrics.error}"
    if probe.scrape is None:
        return "bad_metrics", f"/metrics answered {probe.metrics.status}: no vLLM metrics"
    return "ready", ""


def _auth_message(status: int, path: str) -> str:
    return f"{status} at {path}: set VLLM_API_KEY or pass --api-key-file"


def _looks_like_vllm(probe: Probe) -> bool:
    version = probe.version.data
    if isinstance(version, Mapping) and isinstance(version.get("version"), str):
        return True
    if probe.scrape is not None and (probe.scrape.counters or probe.scrape.gauges):
        return True
    models = probe.models.data
    return isinstance(models, Mapping) and models.get("object") == "list"


def facts(probe: Probe, previous: ServerFacts | None = None) -> ServerFacts:
    """Model and version from /v1/models and /version (kept from before when not answered)."""
    prev = previous or ServerFacts()
    version = probe.version.data
    vllm_version = (
        version["version"]
        if isinstance(version, Mapping) and isinstance(version.get("version"), str)
        else prev.vllm_version
    )
    models = probe.models.data
    if not isinstance(models, Mapping) or not isinstance(models.get("data"), list):
        return ServerFacts(prev.model, prev.served_models, prev.max_model_len, vllm_version)
    entries = [m for m in models["data"] if isinstance(m, Mapping) and isinstance(m.get("id"), str)]
    # LoRA adapters are listed beside the base model with a `parent`; the base is what we serve.
    bases = [m for m in entries if not m.get("parent")] or entries
    first = bases[0] if bases else {}
    max_len = first.get("max_model_len")
    return ServerFacts(
        model=first.get("id"),
        served_models=tuple(m["id"] for m in entries),
        max_model_len=int(max_len)
        if isinstance(max_len, int | float) and 0 < max_len < 2**63
        else None,
        vllm_version=vllm_version,
    )


def backoff(interval: float, failures: int, cap: float = 30.0) -> float:
    """Seconds until the next poll: the interval while healthy, doubling per failure after."""
    if failures <= 0:
        return interval
    return float(min(cap, interval * 2 ** min(failures, 16)))


def extras(current: Scrape, previous: Scrape | None) -> dict[str, float | None]:
    """What the monitor's throughput sample lacks: e2e latency percentiles and preemptions."""
    hist = current.histogram(*E2E)
    if hist is not None and previous is not None:
        hist = hist.minus(previous.histogram(*E2E))
    return {
        "e2e_p50_s": hist.quantile(0.5) if hist else None,
        "e2e_p99_s": hist.quantile(0.99) if hist else None,
        "preemptions_total": current.value(*PREEMPTIONS),
    }


def as_json(sample: WatchSample) -> dict[str, Any]:
    """The `--json` line: `run --headless --json`'s metrics keys (gen_tps...) plus the url.

    A reachable vLLM gives a "metrics" line; anything else a "state" line saying why, and
    when the next try is.
    """
    out: dict[str, Any] = {
        "type": "metrics" if sample.ok else "state",
        "url": sample.url,
        "state": sample.state,
        "time": round(sample.time, 3),
    }
    if sample.metrics is not None:
        out.update({k: v for k, v in vars(sample.metrics).items() if v is not None})
    for name in ("e2e_p50_s", "e2e_p99_s", "preemptions_total"):
        value = getattr(sample, name)
        if value is not None:
            out[name] = value
    out.update({f.name: getattr(sample.facts, f.name) for f in fields(ServerFacts)})
    out["served_models"] = list(sample.facts.served_models)
    out["healthy"] = sample.healthy
    if not sample.ok:
        out["message"] = sample.message
        out["retry_in_s"] = sample.retry_in_s
    return out


def transition(previous: WatchSample | None, current: WatchSample) -> str | None:
    """A line worth telling when the state changed (gone, back, unauthorized...), else None."""
    if previous is not None and previous.state == current.state:
        return None
    if current.ok:
        if previous is None:
            return f"{current.url}: ready ({current.facts.model or '?'})"
        return f"{current.url}: back, ready ({current.facts.model or '?'})"
    was_up = previous is not None and previous.state in ("ready", "unhealthy", "bad_metrics")
    if was_up and current.state == "unreachable":  # stopping may pass through "unhealthy"
        return f"{current.url}: gone ({current.message}); retrying in {current.retry_in_s:g}s"
    return f"{current.url}: {current.state}: {current.message}; retrying in {current.retry_in_s:g}s"
