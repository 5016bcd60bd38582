"""Parse vLLM's log into events: phases, the memory report, throughput samples, errors.

Tolerant across versions: V0 lines without a process prefix, V1 lines with
`(APIServer pid=..)`, `(EngineCore_DP0 pid=..)`, `(Worker_TP0 pid=..)`, uvicorn lines, and
bare tracebacks. ANSI escapes are stripped, `\\r` progress bars collapse to their last state,
and very long lines are cut before any regex sees them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from tui.core.diagnose import Diagnosis, diagnose

MAX_LINE = 8192
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_PREFIX = re.compile(
    r"^(?:\((?P<proc>[A-Za-z][\w.-]*)(?: pid=(?P<pid>\d+))?\)\s+)?"
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+"
    r"(?P<ts>\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+"
    r"\[?(?P<src>[\w./-]+\.py:\d+)\]\s?(?P<msg>.*)$"
)
_PROC_ONLY = re.compile(r"^\((?P<proc>[A-Za-z][\w.-]*)(?: pid=(?P<pid>\d+))?\)\s+(?P<msg>.*)$")
_NUM = r"([\d,]+(?:\.\d+)?)"


def clean_line(raw: str) -> str:
    """Strip ANSI escapes, keep the last state of a `\\r` progress bar, cap the length."""
    if "\x1b" in raw:
        raw = _ANSI.sub("", raw)
    raw = raw.rstrip("\n")
    if "\r" in raw:
        parts = [p for p in raw.split("\r") if p.strip()]
        raw = parts[-1] if parts else ""
    if len(raw) > MAX_LINE:
        raw = raw[:MAX_LINE] + f" …[{len(raw) - MAX_LINE} more characters]"
    return raw.replace("\x00", "")


@dataclass(frozen=True)
class LogLine:
    text: str
    level: str | None = None
    process: str | None = None
    pid: int | None = None
    timestamp: str | None = None
    source: str | None = None
    message: str = ""


def split_line(text: str) -> LogLine:
    m = _PREFIX.match(text)
    if m:
        pid = m.group("pid")
        return LogLine(
            text,
            m.group("level"),
            m.group("proc"),
            int(pid) if pid else None,
            m.group("ts"),
            m.group("src"),
            m.group("msg"),
        )
    m = _PROC_ONLY.match(text)
    if m:
        pid = m.group("pid")
        inner = split_line(m.group("msg")) if m.group("msg")[:1].isupper() else None
        if inner and inner.level:
            return LogLine(
                text,
                inner.level,
                m.group("proc"),
                int(pid) if pid else None,
                inner.timestamp,
                inner.source,
                inner.message,
            )
        return LogLine(
            text, None, m.group("proc"), int(pid) if pid else None, None, None, m.group("msg")
        )
    if text.startswith(("INFO:", "WARNING:", "ERROR:")):
        level, _, msg = text.partition(":")
        return LogLine(text, level, "uvicorn", None, None, None, msg.strip())
    return LogLine(text, None, None, None, None, None, text)


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    line_no: int


@dataclass(frozen=True)
class VersionSeen(Event):
    version: str


@dataclass(frozen=True)
class Phase(Event):
    name: str
    progress: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class MemoryReport(Event):
    """Whatever memory numbers one line held (GiB unless named otherwise)."""

    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Throughput(Event):
    """One stats line. A field the line did not hold stays None."""

    prompt_tps: float | None = None
    gen_tps: float | None = None
    running: int | None = None
    waiting: int | None = None
    swapped: int | None = None
    kv_cache_usage_pct: float | None = None
    prefix_cache_hit_pct: float | None = None
    kv_device: str | None = None
    engine: str | None = None


@dataclass(frozen=True)
class ErrorSeen(Event):
    diagnosis: Diagnosis
    text: str


@dataclass(frozen=True)
class Listening(Event):
    url: str


PHASES = (
    "starting",
    "config",
    "downloading",
    "loading",
    "loaded",
    "profiling",
    "kv_cache",
    "compiling",
    "cuda_graphs",
    "engine_ready",
    "api_ready",
    "shutdown",
)


class LogParser:
    """Feed lines in order; get events. Keeps a little context (tracebacks, line numbers)."""

    def __init__(self) -> None:
        self.line_no = 0

    def feed(self, raw: str) -> tuple[LogLine, list[Event]]:
        self.line_no += 1
        text = clean_line(raw)
        line = split_line(text)
        return line, self._events(line)

    def _events(self, line: LogLine) -> list[Event]:
        msg = line.message
        n = self.line_no
        out: list[Event] = []
        if not msg:
            return out
        if "throughput" in msg and "Avg prompt throughput" in msg:
            out.append(parse_throughput(msg, n))
            return out
        mem = parse_memory(msg)
        if mem:
            out.append(MemoryReport(n, mem))
        phase = _phase(msg, n)
        if phase:
            out.append(phase)
        version = _version(msg)
        if version:
            out.append(VersionSeen(n, version))
        m = _LISTEN.search(msg)
        if m and "Starting vLLM" in msg or (m and "Uvicorn running" in msg):
            out.append(Listening(n, m.group(1)))
        if (
            line.level in ("ERROR", "CRITICAL")
            or line.level is None
            or "Error" in msg
            or "error" in msg
        ):
            diag = diagnose(msg)
            if diag is not None:
                out.append(ErrorSeen(n, diag, msg))
        return out


_LISTEN = re.compile(r"(https?://[\w.:\[\]-]+)")
_VERSIONS = (
    re.compile(r"vLLM API server version v?(\d+\.\d+[\w.+-]*)"),
    re.compile(r"Initializing a V\d LLM engine \(v(\d+\.\d+[\w.+-]*)\)"),
    re.compile(r"Initializing an LLM engine \(v(\d+\.\d+[\w.+-]*)\)"),
    re.compile(r"█\s+version (\d+\.\d+[\w.+-]*)"),
)


def _version(msg: str) -> str | None:
    if "version" not in msg and "engine (v" not in msg:
        return None
    for pat in _VERSIONS:
        m = pat.search(msg)
        if m:
            return m.group(1)
    return None


_SHARDS = re.compile(
    r"Loading (?:safetensors|pt|bin)? ?checkpoint shards:\s+(\d+)% Completed \|\s*(\d+)/(\d+)"
)
_CAPTURE = re.compile(r"Capturing CUDA graphs?.*?(\d+)%")
_DOWNLOAD = re.compile(r"(?:Downloading|Fetching)\b.*?(\d+)%")


def _phase(msg: str, n: int) -> Phase | None:
    m = _SHARDS.search(msg)
    if m:
        return Phase(n, "loading", int(m.group(1)) / 100, f"shard {m.group(2)}/{m.group(3)}")
    if "Capturing CUDA graph" in msg:
        m = _CAPTURE.search(msg)
        return Phase(n, "cuda_graphs", int(m.group(1)) / 100 if m else None)
    checks = (
        ("non-default args", "config", None),
        ("Resolved architecture", "config", None),
        ("Using max model len", "config", None),
        ("Time spent downloading weights", "downloading", 1.0),
        ("Starting to load model", "loading", 0.0),
        ("Model loading took", "loaded", 1.0),
        ("Loading model weights took", "loaded", 1.0),
        ("Loading weights took", "loaded", 1.0),
        ("Memory profiling", "profiling", None),
        ("Available KV cache memory", "profiling", 1.0),
        ("KV cache size:", "kv_cache", 1.0),
        ("# GPU blocks", "kv_cache", 1.0),
        ("# cuda blocks", "kv_cache", 1.0),
        ("# CUDA blocks", "kv_cache", 1.0),
        ("for KV cache on node", "kv_cache", 1.0),
        ("torch.compile", "compiling", None),
        ("Compiling a graph", "compiling", None),
        ("Dynamo bytecode transform", "compiling", None),
        ("Warming up model", "compiling", None),
        ("Graph capturing finished", "cuda_graphs", 1.0),
        ("init engine (profile, create kv cache", "engine_ready", 1.0),
        ("Starting vLLM API server", "api_ready", None),
        ("Starting vLLM server on", "api_ready", None),
        ("Application startup complete", "api_ready", 1.0),
        ("Shutting down", "shutdown", None),
        ("shutdown triggered", "shutdown", None),
    )
    for needle, name, progress in checks:
        if needle in msg:
            return Phase(n, name, progress)
    if ("Downloading" in msg or "Fetching" in msg) and "%" in msg:
        m = _DOWNLOAD.search(msg)
        return Phase(n, "downloading", int(m.group(1)) / 100 if m else None)
    return None


def _f(text: str) -> float:
    return float(text.replace(",", ""))


_MEM_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), keys)
    for p, keys in (
        (
            r"(?:Model loading|Loading model weights) took " + _NUM + r" ?(?:GiB|GB)",
            ("weights_gib",),
        ),
        (r"Available KV cache memory: " + _NUM + " GiB", ("kv_cache_gib",)),
        (r"KV cache size: " + _NUM + " tokens", ("kv_cache_tokens",)),
        (
            r"Maximum concurrency for " + _NUM + r" tokens per request: " + _NUM + "x",
            ("concurrency_len", "max_concurrency"),
        ),
        (r"# (?:GPU|gpu|cuda|CUDA) blocks: " + _NUM, ("gpu_blocks",)),
        (r"Graph capturing finished in [\d.]+ secs?, took " + _NUM + " GiB", ("cuda_graph_gib",)),
        (r"Estimated CUDA graph memory: " + _NUM + " GiB", ("cuda_graph_estimate_gib",)),
        (r"model weights take " + _NUM + r" ?GiB", ("weights_gib",)),
        (r"non_torch_memory (?:takes )?" + _NUM + r" ?GiB", ("non_torch_gib",)),
        (r"(?:PyTorch )?activation peak memory (?:takes )?" + _NUM + r" ?GiB", ("activation_gib",)),
        (r"reserved for KV Cache is " + _NUM + r" ?GiB", ("kv_cache_gib",)),
        (r"available_kv_cache_memory\s+" + _NUM + r" ?GiB", ("kv_cache_gib",)),
        (r"total_gpu_memory[ =(]+" + _NUM + r" ?GiB", ("total_gib",)),
        (r"kv_cache_size=" + _NUM + "GiB", ("kv_cache_gib",)),
        (r"non_torch_memory=" + _NUM + "GiB", ("non_torch_gib",)),
        (r"peak_torch_memory=" + _NUM + "GiB", ("peak_torch_gib",)),
        (
            r"Actual usage is "
            + _NUM
            + r" GiB for weight, "
            + _NUM
            + r" GiB for peak activation, "
            + _NUM
            + r" GiB for non-torch memory(?:, and "
            + _NUM
            + r" GiB for CUDAGraph memory)?",
            ("weights_gib", "activation_gib", "non_torch_gib", "cuda_graph_gib"),
        ),
        (
            r"Desired GPU memory utilization is \(" + _NUM + ", " + _NUM + " GiB\\)",
            ("utilization", "budget_gib"),
        ),
        (r"Free memory on device \(" + _NUM + "/" + _NUM + " GiB\\)", ("free_gib", "total_gib")),
        (r"torch peak memory increase: " + _NUM + "GiB", ("activation_gib",)),
        (r"non-torch forward increase memory: " + _NUM + "GiB", ("non_torch_gib",)),
        (
            r"(?:Auto|Explicitly) set \(" + _NUM + "/" + _NUM + r"\) GiB for KV cache",
            ("kv_cache_gib", "total_gib"),
        ),
        (r"(" + _NUM[1:-1] + r") GiB memory was consumed by non-kv usages", ("non_kv_gib",)),
        (r"with " + _NUM + r" GiB requested memory", ("budget_gib",)),
    )  # fmt: skip
)
_MEM_HINTS = ("took", "KV cache", "blocks", "memory", "GiB", "concurrency")


def parse_memory(msg: str) -> dict[str, float]:
    """Memory numbers in one message (empty when none)."""
    if not any(h in msg for h in _MEM_HINTS):
        return {}
    out: dict[str, float] = {}
    for pat, keys in _MEM_PATTERNS:
        m = pat.search(msg)
        if not m:
            continue
        for key, value in zip(keys, m.groups(), strict=False):
            if value is not None and key not in out:
                number = _f(value)
                if math.isfinite(number) and number < 1e15:  # a hostile line cannot inject inf
                    out[key] = number
    if "peak_torch_gib" in out and "weights_gib" not in out:
        out.pop("peak_torch_gib")
    return out


_TP_FIELDS: tuple[tuple[str, re.Pattern[str], type], ...] = (
    ("prompt_tps", re.compile(r"Avg prompt throughput: " + _NUM + r" tokens/s"), float),
    ("gen_tps", re.compile(r"Avg generation throughput: " + _NUM + r" tokens/s"), float),
    ("running", re.compile(r"Running: (\d+) reqs?"), int),
    ("waiting", re.compile(r"(?:Waiting|Pending): (\d+) reqs?"), int),
    ("swapped", re.compile(r"Swapped: (\d+) reqs?"), int),
)
_KV_USAGE = re.compile(r"(GPU|CPU|XPU|TPU|HPU|NPU) KV cache usage: " + _NUM + "%")
_PREFIX_HIT = re.compile(r"Prefix cache hit rate: (?:GPU: )?" + _NUM + "%")
_ENGINE = re.compile(r"Engine (\d+):")


def parse_throughput(msg: str, line_no: int = 0) -> Throughput:
    """Field-by-field: a field missing from the line stays None (never invented)."""
    values: dict[str, object] = {}
    for name, pat, typ in _TP_FIELDS:
        m = pat.search(msg)
        if m:
            number = _f(m.group(1))
            if math.isfinite(number) and number < 1e15:
                values[name] = typ(number)
    usages = _KV_USAGE.findall(msg)
    if usages:
        # V0 printed both GPU and CPU (swap) usage; the accelerator's own cache comes first.
        device, pct = usages[0]
        values["kv_cache_usage_pct"] = _f(pct)
        values["kv_device"] = device
    m = _PREFIX_HIT.search(msg)
    if m:
        values["prefix_cache_hit_pct"] = _f(m.group(1))
    m = _ENGINE.search(msg)
    if m:
        values["engine"] = m.group(1)
    return Throughput(line_no, **values)  # type: ignore[arg-type]
