"""Follow a run: its log (parsed into events), /health until ready, /metrics once serving,
and the process's exit. Used by the headless `run` command and by the app (a view only).

Nothing here owns the server: stopping is `runs.stop`, and a watcher can come and go
(attach re-reads the log from the start to rebuild the state).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tui.adapters import http, runs
from tui.core.logparse import Event, LogParser, Phase
from tui.core.metrics import MetricsSample, Scrape, parse_scrape, sample
from tui.core.runstate import RunState, health_ok, process_exited, reduce


@dataclass(frozen=True)
class Update:
    lines: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    state: RunState = field(default_factory=RunState)
    metrics: MetricsSample | None = None
    alive: bool = True
    progress: Phase | None = None
    """Live progress from a `\\r` bar that has not finished its line yet."""


class Watcher:
    def __init__(
        self,
        run: runs.Run,
        *,
        api_key: str | None = None,
        from_start: bool = True,
        metrics_every: float = 5.0,
        health_every: float = 1.0,
    ) -> None:
        self.run = run
        self.api_key = api_key
        self.follower = runs.LogFollower(run.log_path, from_start=from_start)
        self.parser = LogParser()
        self.state = RunState()
        self.metrics_every = metrics_every
        self.health_every = health_every
        self._last_health = 0.0
        self._last_metrics = 0.0
        self._scrape: Scrape | None = None
        self.stop_requested = False
        self._finished = False

    def poll_log(self) -> tuple[list[str], list[Event]]:
        """New complete lines and their events (synchronous, cheap)."""
        lines: list[str] = []
        events: list[Event] = []
        for raw in self.follower.read():
            line, evs = self.parser.feed(raw)
            lines.append(line.text)
            for ev in evs:
                self.state = reduce(self.state, ev)
            events.extend(evs)
        return lines, events

    def partial_progress(self) -> Phase | None:
        tail = self.follower.partial.decode("utf-8", errors="replace")
        if "\r" not in tail:
            return None
        from tui.core.logparse import _phase, clean_line, split_line

        return _phase(split_line(clean_line(tail)).message, self.parser.line_no)

    async def step(self) -> Update:
        lines, events = self.poll_log()
        now = time.monotonic()
        metrics = None
        alive = self.run.alive()
        if (
            alive
            and self.state.state == "starting"
            and now - self._last_health >= self.health_every
        ):
            self._last_health = now
            if await http.health(self.run.url):
                self.state = health_ok(self.state)
        if alive and self.state.state == "ready" and now - self._last_metrics >= self.metrics_every:
            self._last_metrics = now
            text = await http.metrics(self.run.url)
            if text:
                try:
                    scrape = parse_scrape(text, time.time())
                except Exception:
                    scrape = None
                if scrape is not None:
                    metrics = sample(scrape, self._scrape)
                    self._scrape = scrape
        if not alive and not self._finished:
            more_lines, more_events = self.poll_log()
            lines += more_lines
            events += more_events
            info = self.run.exit_info() or {}
            requested = self.stop_requested or bool(info.get("stop_requested"))
            self.state = process_exited(self.state, info.get("code"), stop_requested=requested)
            self._finished = True
        return Update(
            tuple(lines), tuple(events), self.state, metrics, alive, self.partial_progress()
        )

    async def follow(
        self, interval: float = 0.1, wake: asyncio.Event | None = None
    ) -> AsyncIterator[Update]:
        """Updates until the server is gone and its log is drained (`wake` forces one)."""
        while True:
            update = await self.step()
            woken = wake is not None and wake.is_set()
            if (
                update.lines
                or update.events
                or update.metrics
                or not update.alive
                or update.progress
                or woken
            ):
                yield update
            if self._finished:
                return
            await asyncio.sleep(interval)
