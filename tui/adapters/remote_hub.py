"""The servers the app watches, one poller for all of them, and the monitor's view of one.

`WatchHub` keeps each server's recent samples; the watch table and a server's monitor both
read it, so opening a monitor never polls a server twice. `RemoteWatcher` turns one server's
samples into the `Update`s the monitor already takes from a launched run (metrics, state,
log lines saying what happened), so the same monitor shows a server we did not start.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from tui.adapters.remote import RemoteServer, watch
from tui.adapters.watcher import Update
from tui.core.runstate import RunState
from tui.core.watchstate import NOT_AVAILABLE, WatchSample, transition

HISTORY = 720
REPLAY = 30
"""Samples a freshly opened monitor replays (one per step, so its sparklines have a past)."""


class WatchHub:
    def __init__(self, servers: Sequence[RemoteServer]) -> None:
        self.servers = list(servers)
        self.history: dict[str, deque[WatchSample]] = {
            s.url: deque(maxlen=HISTORY) for s in self.servers
        }
        self.counts: dict[str, int] = {s.url: 0 for s in self.servers}

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def add(self, sample: WatchSample) -> None:
        self.history.setdefault(sample.url, deque(maxlen=HISTORY)).append(sample)
        self.counts[sample.url] = self.counts.get(sample.url, 0) + 1

    def latest(self, url: str) -> WatchSample | None:
        hist = self.history.get(url)
        return hist[-1] if hist else None

    def since(self, url: str, seen: int) -> tuple[list[WatchSample], int]:
        """Samples of `url` after the first `seen` ever added (as many as are kept)."""
        total = self.counts.get(url, 0)
        hist = list(self.history.get(url, ()))
        new = min(total - seen, len(hist))
        return (hist[len(hist) - new :] if new > 0 else []), total

    async def run(self, stop: asyncio.Event) -> AsyncIterator[WatchSample]:
        async for sample in watch(self.servers, stop):
            self.add(sample)
            yield sample


class RemoteRun:
    """What the monitor needs of a run, for a server we did not start (nothing to stop)."""

    remote = True
    log_path = ""

    def __init__(self, hub: WatchHub, url: str) -> None:
        self.id = url
        self._hub = hub
        self._url = url

    @property
    def url(self) -> str:
        return self._url

    @property
    def model(self) -> str:
        last = self._hub.latest(self._url)
        return (last.facts.model if last else None) or self._url

    def alive(self) -> bool:
        # Not ours: quitting never asks whether to stop it, and launching is not blocked.
        return False


def run_state(sample: WatchSample, previous: RunState) -> RunState:
    """The monitor's state line: "ready", or why not (unreachable, unauthorized...)."""
    return replace(
        previous,
        state=sample.state,
        vllm_version=sample.facts.vllm_version or previous.vllm_version,
        url=sample.url,
        reached_ready=previous.reached_ready or sample.ok,
    )


class RemoteWatcher:
    """`WatcherLike` over the hub: each step hands over the samples that arrived since."""

    def __init__(self, hub: WatchHub, url: str) -> None:
        self.hub = hub
        self.url = url
        self.state = RunState(state="starting", url=url)
        self.stop_requested = False
        total = hub.counts.get(url, 0)
        self._seen = max(0, total - REPLAY)
        self._last: WatchSample | None = None
        self._told_missing = False

    async def step(self) -> Update:
        if self.stop_requested:
            return Update(state=self.state, alive=False)
        samples, total = self.hub.since(self.url, self._seen)
        if not samples:
            return Update(state=self.state)
        # One sample per step (the oldest not yet handed over): an Update carries one
        # metrics sample, and a replay then fills the monitor's sparklines in order.
        sample = samples[0]
        self._seen = total - len(samples) + 1
        lines: list[str] = []
        if not self._told_missing:
            self._told_missing = True
            lines.append(f"[watch] {self.url}: not started here; polling its HTTP API")
            lines += [
                f"[watch] {k}: not available from the API ({v})" for k, v in NOT_AVAILABLE.items()
            ]
        change = transition(self._last, sample)
        if change:
            lines.append(f"[watch] {change}")
        self._last = sample
        self.state = run_state(sample, self.state)
        return Update(lines=tuple(lines), state=self.state, metrics=sample.metrics, alive=True)

    async def follow(self, interval: float = 0.1) -> AsyncIterator[Update]:
        """Updates as samples arrive, until the view stops watching (`stop_requested`)."""
        # Let the monitor that is being opened mount first: it fills itself from the
        # session's history, and an update posted meanwhile would be shown twice.
        await asyncio.sleep(max(interval, 1.0))
        while True:
            update = await self.step()
            if update.lines or update.metrics is not None or not update.alive:
                yield update
            if not update.alive:
                return
            await asyncio.sleep(interval)
