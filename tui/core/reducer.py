"""The reducer: vLLM's log events folded into a RunState (pure), and a whole log replayed.

Kept apart from tui.core.runstate so that the app's first frame, which holds an empty
RunState, loads neither the events nor the parser.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui.core.logparse_events import (
    ErrorSeen,
    Event,
    Listening,
    MemoryReport,
    Phase,
    Throughput,
    VersionSeen,
)
from tui.core.runstate import MAX_SAMPLES, PhaseState, RunState

if TYPE_CHECKING:
    from tui.core.diagnose import Diagnosis


def reduce(state: RunState, event: Event) -> RunState:
    """One event applied to the state (pure)."""
    if isinstance(event, Phase):
        # Phases are kept in first-seen order (their order differs between versions and
        # devices); a repeated phase only updates its progress.
        phases = list(state.phases)
        for i, p in enumerate(phases):
            if p.name == event.name:
                progress = event.progress if event.progress is not None else p.progress
                phases[i] = PhaseState(p.name, progress, event.line_no)
                break
        else:
            phases.append(PhaseState(event.name, event.progress, event.line_no))
        new = replace(state, phases=tuple(phases), current_phase=event.name)
        if event.name == "api_ready" and event.progress == 1.0 and state.state == "starting":
            new = replace(new, state="ready", reached_ready=True)
        if event.name == "shutdown" and state.state in ("ready", "starting"):
            new = replace(new, state="stopping")
        return new
    if isinstance(event, MemoryReport):
        merged = dict(state.memory) | event.values
        return replace(state, memory=tuple(sorted(merged.items())))
    if isinstance(event, Throughput):
        samples = (*state.throughput, event)[-MAX_SAMPLES:]
        return replace(state, throughput=samples)
    if isinstance(event, ErrorSeen):
        errors = (*state.errors, event.diagnosis)[-50:]
        new_state = (
            "failed"
            if event.diagnosis.fatal
            and state.state in ("starting", "ready")
            and _fatal_now(state, event.diagnosis)
            else state.state
        )
        return replace(state, errors=errors, state=new_state)
    if isinstance(event, VersionSeen):
        return replace(state, vllm_version=state.vllm_version or event.version)
    if isinstance(event, Listening):
        return replace(state, url=event.url)
    return state


def _fatal_now(state: RunState, diag: Diagnosis) -> bool:
    # Once serving, an OOM in one request or a bad client call is not a startup failure.
    if state.state == "ready":
        return diag.kind in ("engine_failed",)
    return True


def replay(lines: Iterable[str], state: RunState | None = None) -> RunState:
    """Rebuild the state from a whole log (attach, parse-log, demo)."""
    from tui.core.logparse import LogParser, parse_throughput

    parser = LogParser()
    st = state or RunState()
    # Stats lines are most of a long log and only the last MAX_SAMPLES are kept: they are read
    # at the end (no other event reads the samples, so the result is the same as in order).
    stats: deque[Throughput | tuple[int, str]] = deque(maxlen=MAX_SAMPLES)
    for raw in lines:
        events, text = parser.scan(raw)
        if text is not None:
            stats.append((parser.line_no, text))
            continue
        for ev in events:
            if isinstance(ev, Throughput):
                stats.append(ev)
            else:
                st = reduce(st, ev)
    window = tuple(s if isinstance(s, Throughput) else parse_throughput(s[1], s[0]) for s in stats)
    if window:
        st = replace(st, throughput=(*st.throughput, *window)[-MAX_SAMPLES:])
    return replace(st, lines=parser.line_no)
