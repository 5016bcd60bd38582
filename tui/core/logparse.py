"""Parse vLLM's log into events: phases, the memory report, throughput samples, errors.

Tolerant across versions: V0 lines without a process prefix, V1 lines with
`(APIServer pid=..)`, `(EngineCore_DP0 pid=..)`, `(Worker_TP0 pid=..)`, uvicorn lines, and
bare tracebacks. ANSI escapes are stripped, `\\r` progress bars collapse to their last state,
and very long lines are cut before any regex sees them.

The events are declared in logparse_events, the memory report is read in logparse_memory and
the stats line in logparse_stats; this module re-exports their public names.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from tui.core.diagnose import NEEDLES as DIAGNOSIS_NEEDLES
from tui.core.diagnose import diagnose
from tui.core.logparse_events import PHASES as PHASES
from tui.core.logparse_events import ErrorSeen as ErrorSeen
from tui.core.logparse_events import Event as Event
from tui.core.logparse_events import Listening as Listening
from tui.core.logparse_events import MemoryReport as MemoryReport
from tui.core.logparse_events import Phase as Phase
from tui.core.logparse_events import Throughput as Throughput
from tui.core.logparse_events import VersionSeen as VersionSeen
from tui.core.logparse_memory import _MEM_HINTS
from tui.core.logparse_memory import parse_memory as parse_memory
from tui.core.logparse_stats import _from_parts as _from_parts
from tui.core.logparse_stats import parse_throughput as parse_throughput

MAX_LINE = 8192
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_PREFIX = re.compile(
    r"^(?:\((?P<proc>[A-Za-z][\w.-]*)(?: pid=(?P<pid>\d+))?\)\s+)?"
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+"
    r"(?P<ts>\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+"
    r"\[?(?P<src>[\w./-]+\.py:\d+)\]\s?(?P<msg>.*)$"
)
_PROC_ONLY = re.compile(r"^\((?P<proc>[A-Za-z][\w.-]*)(?: pid=(?P<pid>\d+))?\)\s+(?P<msg>.*)$")


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


def bounded_lines(stream: TextIO, limit: int = MAX_LINE * 4) -> Iterator[str]:
    """Lines of a text stream, each at most `limit` characters: the rest of a longer line is
    skipped without being held, so one huge line cannot take the memory of a huge line.
    (readline with a limit: measured faster than chunked reads and splitting here.)"""
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if len(line) == limit and not line.endswith("\n"):
            skipped = 0
            while True:
                rest = stream.readline(limit)
                skipped += len(rest)
                if not rest or rest.endswith("\n"):
                    break
            line += f" …[{skipped} more characters]\n"
        yield line


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


class LogParser:
    """Feed lines in order; get events. Keeps a little context (tracebacks, line numbers)."""

    def __init__(self) -> None:
        self.line_no = 0
        self.args: dict[str, str] = {}
        """The server's non-default arguments (string and number values) once logged."""

    def feed(self, raw: str) -> tuple[LogLine, list[Event]]:
        self.line_no += 1
        text = clean_line(raw)
        line = split_line(text)
        if not may_matter(text):
            return line, []
        return line, self._events(line)

    def events(self, raw: str) -> list[Event]:
        """The events of one line without building its LogLine unless it can matter.

        What `replay` uses: most lines of a long log (HTTP access lines, stats lines, noise)
        are settled by substring checks; only lines holding a known needle reach the regexes.
        """
        self.line_no += 1
        text = clean_line(raw)
        if _ACCESS in text and _ACCESS_END in text:
            return []  # a uvicorn access line: never an event
        if _STATS in text:
            return [parse_throughput(text, self.line_no)]
        if not may_matter(text):
            return []
        return self._events(split_line(text))

    def scan(self, raw: str) -> tuple[Sequence[Event], str | None]:
        """`events`, except that a stats line comes back unread (its cleaned text) for a caller
        that keeps only the last N samples and reads just those (`parse_throughput`).

        A plain line (no escapes, no `\\r`, not over MAX_LINE) is its own cleaned text, so the
        two commonest kinds, access and stats lines, are settled here without cleaning."""
        if len(raw) <= MAX_LINE and "\x1b" not in raw and "\r" not in raw:
            if _ACCESS_END in raw and _ACCESS in raw:
                self.line_no += 1
                return _NOTHING
            if _STATS in raw and "\x00" not in raw:
                self.line_no += 1
                return (), raw.rstrip("\n")
        return self.events(raw), None

    def _events(self, line: LogLine) -> list[Event]:
        msg = line.message
        n = self.line_no
        out: list[Event] = []
        if not msg:
            return out
        if "throughput" in msg and "Avg prompt throughput" in msg:
            out.append(parse_throughput(msg, n))
            return out
        if "non-default args" in msg:
            self.args.update((k, a or b) for k, a, b in _ARG_PAIR.findall(msg))
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
            diag = diagnose(msg, self.args)
            if diag is not None and line.level in ("WARNING", "INFO", "DEBUG"):
                # vLLM went on (e.g. VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 turns the max-len error
                # into a warning): show it, but it does not fail the run.
                diag = dataclasses.replace(diag, fatal=False)
            if diag is not None:
                out.append(ErrorSeen(n, diag, msg))
        return out


_ARG_PAIR = re.compile(r"'(\w+)': (?:'([^']{0,500})'|(-?\d+(?:\.\d+)?)\b)")
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


_PHASE_CHECKS: tuple[tuple[str, str, float | None], ...] = (
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


def _phase(msg: str, n: int) -> Phase | None:
    m = _SHARDS.search(msg)
    if m:
        return Phase(n, "loading", int(m.group(1)) / 100, f"shard {m.group(2)}/{m.group(3)}")
    if "Capturing CUDA graph" in msg:
        m = _CAPTURE.search(msg)
        return Phase(n, "cuda_graphs", int(m.group(1)) / 100 if m else None)
    for needle, name, progress in _PHASE_CHECKS:
        if needle in msg:
            return Phase(n, name, progress)
    if ("Downloading" in msg or "Fetching" in msg) and "%" in msg:
        m = _DOWNLOAD.search(msg)
        return Phase(n, "downloading", int(m.group(1)) / 100 if m else None)
    return None


# -- the prefilter --------------------------------------------------------------------------

_NOTHING: tuple[Sequence[Event], None] = ((), None)
_ACCESS, _ACCESS_END = ' - "', " HTTP/1."
_STATS = "Avg prompt throughput"


def _needles() -> tuple[str, ...]:
    """Every substring some event needs: a line holding none of them yields no event."""
    return (
        *(needle for needle, _, _ in _PHASE_CHECKS),
        "checkpoint shards",
        "Capturing CUDA graph",
        "Downloading",
        "Fetching",
        *_MEM_HINTS,
        "version",
        "engine (v",
        "Starting vLLM",
        "Uvicorn running",
        _STATS,
        *DIAGNOSIS_NEEDLES,
    )


def _anchors(needles: tuple[str, ...]) -> tuple[str, ...]:
    """The needles, minus any that holds a shorter one (finding the shorter one is enough)."""
    unique = sorted(set(needles), key=len)
    kept: list[str] = []
    for needle in unique:
        if not any(k in needle for k in kept):
            kept.append(needle)
    return tuple(kept)


NEEDLES = _needles()
ANCHORS = _anchors(NEEDLES)


def may_matter(text: str) -> bool:
    """True when a line can yield an event (cheap substring checks, no regex)."""
    for anchor in ANCHORS:  # noqa: SIM110 - a plain loop is faster than any() + generator
        if anchor in text:
            return True
    return False
