"""The demo's and the fast tests' twins of the outside world: a recorded vLLM log replayed as
a run, a fake H100 box, a pretend vLLM install. Loaded when demo mode first needs one of
them (a launch, the GPU probe, the vLLM lookup), never with the first frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.adapters.gpus import GpuSnapshot
    from tui.adapters.watcher import Update


def demo_log_lines() -> list[str]:
    """The real vLLM log recorded from the CPU end-to-end run, shipped with the package."""
    text = (
        resources.files("tui")
        .joinpath("data/demo-vllm-cpu.log")
        .read_bytes()
        .decode("utf-8", errors="replace")
    )
    return text.splitlines()


SHUTDOWN_MARKERS = ("shutdown triggered", "Shutting down")


def split_at_shutdown(lines: list[str]) -> tuple[list[str], list[str]]:
    """A recorded log up to the server's shutdown, and the shutdown part (played on stop)."""
    for i, line in enumerate(lines):
        if any(m in line for m in SHUTDOWN_MARKERS):
            return lines[:i], lines[i:]
    return lines, []


@dataclass
class ReplayRun:
    id: str
    model: str
    lines: list[str]
    tail: list[str] = field(default_factory=list)
    url: str = "http://127.0.0.1:8000"
    position: int = 0
    stopped: bool = False
    log_path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def alive(self) -> bool:
        return not self.stopped


class ReplayWatcher:
    """Feeds a recorded log `per_step` lines at a time, as if the server were printing it."""

    def __init__(self, run: ReplayRun, per_step: int = 3) -> None:
        from tui.core.logparse import LogParser
        from tui.core.runstate import RunState

        self.run = run
        self.parser = LogParser()
        self.state = RunState()
        self.stop_requested = False
        self.per_step = per_step
        self._finished = False

    async def step(self) -> Update:
        from tui.adapters.watcher import Update
        from tui.core.reducer import reduce
        from tui.core.runstate import health_ok, process_exited

        run = self.run
        chunk = run.lines[
            run.position : run.position + (len(run.lines) if run.stopped else self.per_step)
        ]
        run.position += len(chunk)
        lines, events = [], []
        for raw in chunk:
            line, evs = self.parser.feed(raw)
            lines.append(line.text)
            for ev in evs:
                self.state = reduce(self.state, ev)
            events.extend(evs)
        if self.state.state == "starting" and any(
            "Application startup complete" in raw for raw in chunk
        ):
            self.state = health_ok(self.state)
        alive = not run.stopped or run.position < len(run.lines)
        if run.stopped and run.position >= len(run.lines) and not self._finished:
            self.state = process_exited(self.state, 0, stop_requested=True)
            self._finished = True
            alive = False
        return Update(tuple(lines), tuple(events), self.state, None, alive)

    async def follow(self, interval: float = 0.1) -> AsyncIterator[Update]:
        """Updates until the replayed server is gone (the same contract as `Watcher.follow`)."""
        while True:
            update = await self.step()
            if update.lines or update.events or not update.alive:
                yield update
            if self._finished:
                return
            await asyncio.sleep(interval)


def demo_snapshot() -> GpuSnapshot:
    """A fake H100 box for demos and deterministic screenshots."""
    from tui.adapters.gpus import Gpu, GpuSnapshot, HostInfo

    gpus = tuple(
        Gpu(
            index=i,
            name="NVIDIA H100 80GB HBM3 (demo)",
            uuid=f"GPU-demo-{i}",
            memory_total_bytes=85_031_714_816,
            memory_free_bytes=84_400_000_000,
            memory_used_bytes=631_714_816,
            compute_capability=(9, 0),
            pci_bus_id=f"00000000:{0x18 + i:02X}:00.0",
            utilization_pct=0,
            temperature_c=34,
            power_w=71.0,
            power_limit_w=700.0,
        )  # fmt: skip
        for i in range(2)
    )
    host = HostInfo(
        ram_total_bytes=2 * 1024**4,
        ram_available_bytes=1900 * 1024**3,
        swap_total_bytes=0,
        swap_free_bytes=0,
        cpus=96,
    )
    return GpuSnapshot(
        "ok", "550.54.15", "12.4", gpus, host, None, {(0, 1): "nvlink"}, ("demo GPUs",)
    )


@dataclass(frozen=True)
class DemoInstall:
    python: str = "demo"
    executable: str | None = None
    dist: str = "vllm (replayed log)"
    version: str | None = "0.32.0"
    source: str = "demo"
    device: str = "cuda"
    prefix: tuple[str, ...] = ("vllm", "serve")
    model_positional: bool = True
    server_flashinfer: bool | None = None


DEMO_INSTALL = DemoInstall()
