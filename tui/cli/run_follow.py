"""Headless following of a run for `vllm-tui run` and `vllm-tui attach --headless`: turns the
watcher's updates (phases, memory report, throughput, errors, metrics, state changes) into
printed events, one line each (or one JSON object per line), and stops a server we own on
Ctrl-C, SIGTERM, SIGHUP, failure or a ready timeout.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any

from tui.cli.common import clean


def emit(json_out: bool, obj: dict[str, Any]) -> None:
    """Print one event: a JSON object per line, or `[type] key=value, ...` for people."""
    if json_out:
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
    else:
        kind = obj.get("type")
        body = {k: v for k, v in obj.items() if k != "type"}
        text = f"[{kind}] " + ", ".join(f"{k}={v}" for k, v in body.items())
        sys.stdout.write(clean(text) + "\n")
    sys.stdout.flush()


async def follow(
    run: Any,
    *,
    json_out: bool,
    detach: bool,
    owns: bool,
    api_key: str | None = None,
    ready_timeout: float = 1800.0,
) -> int:
    """Print the run's events until it exits (or, with `detach`, until it is ready); when we
    own it, stop it on a signal, on failure or after `ready_timeout`. Returns the exit code."""
    from tui.adapters.runs import stop
    from tui.adapters.watcher import Watcher
    from tui.core.logparse import ErrorSeen, MemoryReport, Phase, Throughput

    watcher = Watcher(run, api_key=api_key)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def request_stop() -> None:
        watcher.stop_requested = True
        stopping.set()

    if owns:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, request_stop)
    started = time.monotonic()
    last_state = None
    last_phase: tuple[str, float | None] | None = None
    stop_task: asyncio.Task[list[int]] | None = None
    timed_out = False
    async for update in watcher.follow(wake=stopping):
        for ev in update.events:
            if isinstance(ev, Phase):
                if (ev.name, ev.progress) != last_phase:
                    last_phase = (ev.name, ev.progress)
                    emit(
                        json_out,
                        {
                            "type": "phase",
                            "name": ev.name,
                            "progress": ev.progress,
                            "detail": ev.detail,
                        },
                    )
            elif isinstance(ev, MemoryReport):
                emit(json_out, {"type": "memory", **ev.values})
            elif isinstance(ev, Throughput):
                emit(
                    json_out,
                    {
                        "type": "throughput",
                        **{k: v for k, v in vars(ev).items() if v is not None and k != "line_no"},
                    },
                )
            elif isinstance(ev, ErrorSeen):
                emit(json_out, {"type": "error", **ev.diagnosis.as_json()})
        if update.metrics is not None:
            emit(
                json_out,
                {
                    "type": "metrics",
                    **{k: v for k, v in vars(update.metrics).items() if v is not None},
                },
            )
        if update.state.state != last_state:
            last_state = update.state.state
            emit(json_out, {"type": "state", "state": last_state, "run": run.id})
            if last_state == "ready" and detach:
                return 0
            if last_state == "failed" and owns and stop_task is None:
                request_stop()
        if (
            update.state.state != "ready"
            and time.monotonic() - started > ready_timeout
            and owns
            and stop_task is None
        ):
            emit(
                json_out,
                {
                    "type": "error",
                    "kind": "timeout",
                    "message": f"not ready after {ready_timeout:.0f}s",
                },
            )
            timed_out = True
            request_stop()
        if stopping.is_set() and stop_task is None and owns:
            emit(json_out, {"type": "state", "state": "stopping", "run": run.id})
            stop_task = asyncio.ensure_future(asyncio.to_thread(stop, run))
    if stop_task is not None:
        left = await stop_task
        if left:
            emit(
                json_out, {"type": "error", "kind": "orphans", "message": f"processes left: {left}"}
            )
            return 1
    root = watcher.state.root_cause
    code = watcher.state.exit_code
    emit(
        json_out,
        {
            "type": "exit",
            "code": code,
            "state": watcher.state.state,
            "root_cause": root.as_json() if root else None,
        },
    )
    if watcher.state.state == "failed" or timed_out:
        return 1
    return 0
