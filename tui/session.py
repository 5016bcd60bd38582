"""RunSession: the one run the app is showing (launch, follow, stop, relaunch, attach).

A plain object, not a widget: it owns the run's state (the process handle, its watcher, the
state reduced from its log, the history a monitor screen rebuilds from) and tells the app
what happened by posting messages, which is safe from any thread. The app's workers are thin
wrappers around these methods; nothing here touches a widget.

Every launch or attach starts a new *generation*: messages carry it, and the app drops those
of an older generation, so a relaunch switches the views to the new run at once even while
the old one is still shutting down.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tui.core.catalog import Text, t
from tui.core.errors import UserError
from tui.core.runstate import RunState
from tui.messages import (
    RunLaunchRefused,
    RunNotice,
    RunStarted,
    RunStarting,
    RunUpdated,
)

if TYPE_CHECKING:
    from textual.message import Message

    from tui.adapters.gpus import GpuSnapshot
    from tui.adapters.services import RunLike, Services, WatcherLike
    from tui.core.config import ServeConfig
    from tui.core.estimate import Estimate
    from tui.core.logparse import Throughput


class RunSession:
    """The active run and everything known about it."""

    def __init__(self, services: Services, post: Callable[[Message], object]) -> None:
        self.services = services
        self._post = post
        self.gen = 0
        self.run: RunLike | None = None
        self.watcher: WatcherLike | None = None
        self.state = RunState()
        self.log_history: deque[str] = deque(maxlen=20000)
        self.throughput_history: deque[Throughput] = deque(maxlen=720)
        self.estimate: Estimate | None = None
        """What we predicted for the config this run was launched with (None when attached)."""
        self.gpu_name: str | None = None
        self.config: ServeConfig | None = None
        self.install: Any = None
        self.calibrated = False
        self.attached = False
        """The run was attached to, not launched here (a hang-up leaves it running)."""
        self.total_lines = 0
        """Lines of this run seen so far (a view that rebuilt from history skips them)."""
        self.total_samples = 0
        self._replaced: RunLike | None = None

    # -- queries --------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.run is not None and self.run.alive()

    def watched(self) -> bool:
        """The run is a server we watch, not one started here."""
        return bool(getattr(self.run, "remote", False))

    def can_stop(self) -> bool:
        if self.watched():  # watched, not started here (H6 hook)
            return False
        return self.run is not None and self.state.state in ("starting", "ready", "failed")

    # -- launch / relaunch ----------------------------------------------------------------

    def begin(
        self,
        cfg: ServeConfig,
        estimate: Estimate | None,
        gpu_name: str | None,
        install: Any,
        *,
        replace: bool,
    ) -> int:
        """Start a new generation (on the event loop); the views reset at once."""
        self._replaced = self.run if replace and self.alive() else None
        if self._replaced is not None and self.watcher is not None:
            self.watcher.stop_requested = True
        self._reset()
        self.estimate, self.gpu_name, self.config, self.install = estimate, gpu_name, cfg, install
        self._post(RunStarting(self.gen, estimate, cfg.model))
        return self.gen

    def launch(
        self, gen: int, cfg: ServeConfig, snapshot: GpuSnapshot | None, chosen: Sequence[str]
    ) -> None:
        """Stop the run being replaced, check, start the server (blocking: run in a thread)."""
        launcher = self.services.launcher
        if self._replaced is not None:
            old, self._replaced = self._replaced, None
            launcher.stop(old)
        if snapshot is not None and snapshot.visible_gpus() and chosen:
            cfg = cfg.with_gpus(",".join(chosen))
        checks = launcher.preflight(cfg, snapshot, list(chosen) or None)
        for c in checks:
            if c.level != "error":
                self._post(RunNotice(gen, _text(c.message), "warning"))
        errors = [c for c in checks if c.level == "error"]
        if errors:
            fix = next((c.fix for c in errors if c.fix), None)
            self._post(RunLaunchRefused(gen, "; ".join(str(c.message) for c in errors), fix))
            return
        try:
            run = launcher.launch(cfg, self.install)
        except UserError as exc:
            self._post(RunLaunchRefused(gen, str(exc)))
            return
        if gen != self.gen:  # superseded while launching: this run is nobody's view
            launcher.stop(run)
            return
        self._watch(run)
        self._post(RunStarted(gen, run))

    def attach(self, run_id: str) -> RunLike | None:
        """Follow an existing run, rebuilding its state from its log from the start."""
        run = next(
            (
                r
                for r in self.services.launcher.list_runs()
                if r.id == run_id or r.id.startswith(run_id)
            ),
            None,
        )
        if run is None:
            return None
        self._reset()
        self.attached = True
        self._watch(run)
        self._post(RunStarting(self.gen, None, run.model))
        self._post(RunStarted(self.gen, run, attached=True))
        return run

    def watch_remote(self, run: RunLike, watcher: WatcherLike) -> None:
        """A server we did not start (tui.screens.watch): the same views, fed from its HTTP
        API by `watcher` (a RemoteWatcher). (H6 hook)"""
        self._reset()
        self.run, self.watcher = run, watcher
        self._post(RunStarting(self.gen, None, run.model))
        self._post(RunStarted(self.gen, run, attached=True))

    def _reset(self) -> None:
        self.gen += 1
        self.run, self.watcher = None, None
        self.state = RunState()
        self.log_history.clear()
        self.throughput_history.clear()
        self.total_lines = self.total_samples = 0
        self.estimate, self.gpu_name, self.calibrated = None, None, False
        self.attached = False

    def _watch(self, run: RunLike) -> None:
        key = self.config.get("api_key") if self.config is not None else None
        self.run = run
        self.watcher = self.services.launcher.watcher(run, key, True)

    # -- follow ---------------------------------------------------------------------------

    async def follow(self, gen: int) -> None:
        """Post every update of generation `gen`'s run until it is gone and drained."""
        from tui.core.logparse import Throughput

        watcher = self.watcher
        if watcher is None or gen != self.gen:
            return
        async for update in watcher.follow(0.1):
            if gen != self.gen:
                return
            self.log_history.extend(update.lines)
            self.throughput_history.extend(ev for ev in update.events if isinstance(ev, Throughput))
            self.state = update.state
            self._maybe_calibrate()
            self._post(RunUpdated(gen, update, self.total_lines, self.total_samples))

    def _maybe_calibrate(self) -> None:
        mem = self.state.memory_dict
        if self.calibrated or not self.gpu_name or self.config is None:
            return
        if "weights_gib" not in mem or "kv_cache_gib" not in mem:
            return
        from tui.adapters.calibration import record

        version = getattr(self.install, "version", None)
        try:
            self.calibrated = record(self.gpu_name, self.config, version, mem)
        except OSError:
            self.calibrated = True

    # -- stop -----------------------------------------------------------------------------

    def request_stop(self) -> RunLike | None:
        """Mark the run as stopped on purpose (on the event loop); returns it for `stop`."""
        if self.watcher is not None:
            self.watcher.stop_requested = True
        return self.run

    def stop(self, run: RunLike) -> None:
        """Stop a run (blocking: run in a thread); the result is posted as a notice."""
        gen = self.gen
        self._post(RunNotice(gen, t(f"stopping {run.id}…", f"{run.id} を停止しています…")))
        left = self.services.launcher.stop(run)
        if left:
            text = t(
                f"processes still alive after SIGKILL: {left}",
                f"SIGKILL 後も残っているプロセス: {left}",
            )
            self._post(RunNotice(gen, text, "error"))
        else:
            self._post(RunNotice(gen, t(f"stopped {run.id}", f"{run.id} を停止しました")))


def _text(message: object) -> Text | str:
    return message if isinstance(message, Text) else str(message)
