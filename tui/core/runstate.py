"""Run state: what the UI shows of a run, and the process facts that move it (its exit, a
port held by someone else, /health answering). The log's events are folded in by
tui.core.reducer, which loads with the first log line, not with the app's first frame.

state: "starting" -> "ready" (our own process listens and /health answers) -> "stopped";
or "failed" as soon as a fatal error is logged, even if the process keeps running (a hung
server is not "starting" forever). An end nobody asked for (a crash, a non-zero exit, a kill
by signal, a process that vanished) is "failed" whether or not the server was ready; only a
stop requested by vllm-tui, or a clean exit 0 after serving, is "stopped".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the events and the diagnoser load with the first log line (tui.core.reducer)
    from tui.core.diagnose import Diagnosis
    from tui.core.logparse_events import Throughput

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
