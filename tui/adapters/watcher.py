"""Follow a run: its log (parsed into events), /health until ready, /metrics once serving,
and the process's exit. Used by the headless `run`/`attach` commands and by the app.

API (one follower per view; nothing here owns or stops the server - that is `runs.stop`):

    w = Watcher(run, api_key=None, from_start=True)
    update = await w.step()      # one round: new log lines + events, health, metrics, exit
    async for u in w.follow():   # rounds until the process is gone and the log drained
    w.stop_requested = True      # we asked it to stop: its end is "stopped", not "failed"
    w.state                      # the RunState so far (pure reducer, tui.core.runstate)

`step()` never blocks the event loop: reading and parsing the log (up to 4 MB a round) runs
in a thread (`asyncio.to_thread`), HTTP is async. It is safe to call from a Textual async
worker and post the Update as a message. `poll_log()` is the synchronous part alone, for a
thread worker. Once the process has exited, the step that notices it reads the log to EOF
(`drain()`), so a root cause at the end of a large log is always found.

Ready means: our own process is alive, owns the listening socket on the run's port (psutil,
over the run's verified processes) and /health answers. A server of someone else answering
on that port yields a `port_in_use` diagnosis, never "ready". An exit we did not request is
"failed" (see runstate.process_exited).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tui.adapters import http, runs
from tui.core.logparse import Event, LogParser, Phase
from tui.core.metrics import MetricsSample, Scrape, parse_scrape, sample
from tui.core.reducer import reduce
from tui.core.runstate import RunState, health_ok, port_taken, process_exited


@dataclass(frozen=True)
class Update:
    lines: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    state: RunState = field(default_factory=RunState)
    metrics: MetricsSample | None = None
    alive: bool = True
    progress: Phase | None = None
    """Live progress from a `\\r` bar that has not finished its line yet."""


def listening_pids(run: runs.Run, port: int | None) -> list[int]:
    """The run's own processes that hold a listening TCP socket on `port`."""
    import psutil

    if port is None:
        return []
    out = []
    for pid in run.owned_pids():
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except (psutil.Error, OSError):
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            out.append(pid)
    return out


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

    @property
    def finished(self) -> bool:
        """The process is gone and its log has been read to the end."""
        return self._finished

    def poll_log(self) -> tuple[list[str], list[Event]]:
        """New complete lines (up to 4 MB) and their events; synchronous (call off the loop)."""
        lines: list[str] = []
        events: list[Event] = []
        for raw in self.follower.read():
            line, evs = self.parser.feed(raw)
            lines.append(line.text)
            for ev in evs:
                self.state = reduce(self.state, ev)
            events.extend(evs)
        return lines, events

    def drain(self) -> tuple[list[str], list[Event]]:
        """Everything left in the log, to EOF (after the process exited)."""
        lines: list[str] = []
        events: list[Event] = []
        while True:
            more_lines, more_events = self.poll_log()
            lines += more_lines
            events += more_events
            if self.follower.at_eof():
                break
        if self.follower.partial:  # a last line without newline
            line, evs = self.parser.feed(self.follower.partial.decode("utf-8", errors="replace"))
            self.follower.partial = b""
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

    async def _check_ready(self) -> None:
        if not await http.health(self.run.url):
            return
        port = self.run.port
        mine = await asyncio.to_thread(listening_pids, self.run, port)
        if mine:
            self.state = health_ok(self.state)
        else:
            self.state = port_taken(self.state, port)

    async def step(self) -> Update:
        lines, events = await asyncio.to_thread(self.poll_log)
        now = time.monotonic()
        metrics = None
        alive = await asyncio.to_thread(self.run.alive)
        if (
            alive
            and self.state.state == "starting"
            and now - self._last_health >= self.health_every
        ):
            self._last_health = now
            await self._check_ready()
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
            more_lines, more_events = await asyncio.to_thread(self.drain)
            lines += more_lines
            events += more_events
            info = self.run.exit_info() or {}
            requested = (
                self.stop_requested
                or info.get("stop_requested") is True
                or self.run.stop_requested()
            )
            code = info.get("code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else None
            self.state = process_exited(self.state, code, stop_requested=requested)
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
