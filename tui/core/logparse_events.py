"""The events tui.core.logparse turns vLLM's log into: versions, phases, memory reports,
throughput samples, diagnosed errors, the listening URL; and the phase names in order.

Pure data. tui.core.logparse re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # an annotation only: the diagnoser (its patterns) loads with the parser
    from tui.core.diagnose import Diagnosis


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
