"""Run state: a pure reducer from log events (and process facts) to what the UI shows.

state: "starting" -> "ready" (our own process listens and /health answers) -> "stopped";
or "failed" as soon as a fatal error is logged, even if the process keeps running (a hung
server is not "starting" forever). An end nobody asked for (a crash, a non-zero exit, a kill
by signal, a process that vanished) is "failed" whether or not the server was ready; only a
stop requested by vllm-tui, or a clean exit 0 after serving, is "stopped".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

# The events only: the parser and the diagnoser (their compiled patterns) load where a log
# is read (`replay`, the session's follower), not with the state the first frame needs.
from tui.core.logparse_events import (
    ErrorSeen,
    Event,
    Listening,
    MemoryReport,
    Phase,
    Throughput,
    VersionSeen,
)

if TYPE_CHECKING:
    from tui.core.diagnose import Diagnosis

MAX_SAMPLES = 720  # two hours of 10-second stats lines


@dataclass(frozen=True)
class PhaseState:
    name: str
    progress: float | None
    line_no: int


@dataclass(frozen=True)
class RunState:
    state: str = "starting"
    vllm_version: str | None = None
    phases: tuple[PhaseState, ...] = ()
    memory: tuple[tuple[str, float], ...] = ()
    throughput: tuple[Throughput, ...] = ()
    errors: tuple[Diagnosis, ...] = ()
    url: str | None = None
    exit_code: int | None = None
    lines: int = 0
    current_phase: str | None = None
    reached_ready: bool = False

    @property
    def phase(self) -> PhaseState | None:
        return next((p for p in self.phases if p.name == self.current_phase), None)

    @property
    def startup_state(self) -> str:
        """How far startup got: "ready", "failed" or "starting" (for parse-log)."""
        if self.state == "failed":
            return "failed"
        return "ready" if self.reached_ready or self.state == "ready" else "starting"

    @property
    def memory_dict(self) -> dict[str, float]:
        return dict(self.memory)

    @property
    def root_cause(self) -> Diagnosis | None:
        """The most specific error seen (generic wrappers rank last)."""
        if not self.errors:
            return None
        return max(self.errors, key=lambda d: d.rank)

    def as_json(self) -> dict[str, object]:
        mem = self.memory_dict
        keys = (
            "weights_gib",
            "activation_gib",
            "non_torch_gib",
            "kv_cache_gib",
            "kv_cache_tokens",
            "max_concurrency",
            "cuda_graph_gib",
        )
        memory = {k: mem.get(k) for k in keys}
        if "kv_cache_tokens" in mem:
            memory["kv_cache_tokens"] = int(mem["kv_cache_tokens"])
        for extra in ("concurrency_len", "gpu_blocks", "total_gib", "budget_gib", "free_gib"):
            if extra in mem:
                memory[extra] = mem[extra]
        root = self.root_cause
        return {
            "vllm_version": self.vllm_version,
            "state": self.startup_state,
            "run_state": self.state,
            "phases": [
                {"name": p.name, "progress": p.progress, "line": p.line_no} for p in self.phases
            ],
            "memory": memory,
            "throughput": [
                {
                    "prompt_tps": t.prompt_tps,
                    "gen_tps": t.gen_tps,
                    "running": t.running,
                    "waiting": t.waiting,
                    "kv_cache_usage_pct": t.kv_cache_usage_pct,
                    "prefix_cache_hit_pct": t.prefix_cache_hit_pct,
                }
                for t in self.throughput
            ],
            "errors": [d.as_json() for d in sorted(self.errors, key=lambda d: -d.rank)],
            "root_cause": root.as_json() if root else None,
            "url": self.url,
        }


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


def process_exited(state: RunState, code: int | None, *, stop_requested: bool = False) -> RunState:
    """The server process ended (`code` None: it vanished without an exit record).

    Failed unless we asked it to stop, or it exited 0 on its own after serving.
    """
    if state.state == "failed":
        return replace(state, exit_code=code)
    if stop_requested or (code == 0 and state.state != "starting"):
        return replace(state, state="stopped", exit_code=code)
    return replace(state, state="failed", exit_code=code)


def port_taken(state: RunState, port: int | None) -> RunState:
    """/health answered but the listening socket is not our process's: another server holds
    the port. Recorded once as a `port_in_use` diagnosis (the run is not ready)."""
    from tui.core.diagnose import Diagnosis, fix_from_dict

    if any(d.kind == "port_in_use" for d in state.errors):
        return state
    diag = Diagnosis(
        "port_in_use",
        f"port {port} answers, but the listener is not this run's vLLM"
        if port
        else "the port answers, but the listener is not this run's vLLM",
        flag="--port",
        suggestion=f"--port {port + 1}" if port else "choose a free --port",
        explanation="Another process already listens on this port (maybe an earlier vLLM); "
        "this run cannot bind it and will fail with 'address already in use'.",
        fix=fix_from_dict({"port": port + 1}, f"--port {port + 1}") if port else None,
        fatal=True,
        rank=90,
        value=port,
    )
    return replace(state, errors=(*state.errors, diag)[-50:])


def health_ok(state: RunState) -> RunState:
    """GET /health answered 200: the server is ready whatever the log said."""
    return replace(state, state="ready") if state.state == "starting" else state


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
