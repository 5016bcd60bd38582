"""The app's run control: launch, follow the log, stop, quit (stop / leave running), SIGHUP,
and LoRA hot-swap. A mixin of VllmTuiApp; the server itself belongs to the runner shim."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import work
from textual.css.query import NoMatches

from tui.adapters.services import RunLike, WatcherLike
from tui.core.errors import UserError
from tui.core.logparse import Throughput
from tui.core.plan import BLOCKING, INPUT_ERRORS, PlanResult
from tui.core.runstate import RunState


class RunControl:
    def action_launch(self, replace_active: bool = False) -> None:
        if self.install is None:
            self.notify(
                "No vLLM found: planning mode (install vLLM or start with --vllm PATH).",
                severity="error",
            )
            return
        if self.active_run is not None and self.active_run.alive() and not replace_active:
            self.notify("A server is already running: stop it first (Ctrl+X).", severity="warning")
            return
        result = self.current_plan()
        blocking = [
            f
            for f in result.findings
            if f.level == "error" and (f.code in BLOCKING or f.code in INPUT_ERRORS)
        ]
        if blocking:
            self.notify(
                "Not launching: "
                + blocking[0].message.get(self.lang)
                + " (Ctrl+F applies the fix)",
                severity="error",
                timeout=8,
            )
            return
        self._launch(result, replace_active)

    @work(thread=True, exclusive=True, group="launch")
    def _launch(self, result: PlanResult, replace_active: bool) -> None:
        launcher = self.services.launcher
        if replace_active and self.active_run is not None and self.active_run.alive():
            if self.watcher is not None:
                self.watcher.stop_requested = True
            launcher.stop(self.active_run)
        cfg = self.config
        snap = self.snapshot
        if snap is not None and snap.gpus:
            snap = self.services.probe()  # free memory now, not at start-up
            self.call_from_thread(setattr, self, "snapshot", snap)
        if snap is not None and snap.visible_gpus() and self.chosen:
            cfg = cfg.with_gpus(",".join(self.chosen))
        checks = launcher.preflight(cfg, snap, self.chosen or None)
        errors = [c for c in checks if c.level == "error"]
        for c in checks:
            self.call_from_thread(
                self.notify,
                c.message,
                severity="error" if c.level == "error" else "warning",
                timeout=10,
            )
        if errors:
            fix = next((c.fix for c in errors if c.fix), None)
            if fix:
                self.call_from_thread(
                    self.notify,
                    f"suggested fix: {fix} (applied to the form)",
                    severity="information",
                )
                self.call_from_thread(self.apply_fix, fix)
            return
        try:
            run = launcher.launch(cfg, self.install)
        except UserError as exc:
            self.call_from_thread(self.notify, exc.message, severity="error")
            return
        self.call_from_thread(self._started, run, result)

    def _started(self, run: RunLike, result: PlanResult) -> None:
        self.launched_estimate = result.estimate
        self.launched_gpu = result.gpus[0].name if result.gpus else None
        self._watch(run, from_start=True)
        self.show_monitor()

    def attach(self, run_id: str) -> None:
        run = next(
            (
                r
                for r in self.services.launcher.list_runs()
                if r.id == run_id or r.id.startswith(run_id)
            ),
            None,
        )
        if run is None:
            self.notify(f"no run {run_id}", severity="error")
            return
        self.launched_estimate = None
        self._watch(run, from_start=True)
        self.show_monitor()

    def _watch(self, run: RunLike, from_start: bool) -> None:
        self.active_run = run
        self.watcher = self.services.launcher.watcher(run, self.config.get("api_key"), from_start)
        self.log_history.clear()
        self.throughput_history.clear()
        self.run_state = RunState()
        self.calibrated = False
        self._follow(self.watcher)

    def show_monitor(self) -> None:
        from tui.screens.monitor import MonitorScreen

        if not isinstance(self.screen, MonitorScreen):
            self.push_screen(MonitorScreen())

    @work(exclusive=True, group="follow")
    async def _follow(self, watcher: WatcherLike) -> None:
        from tui.screens.monitor import MonitorScreen

        last_gpu = 0.0
        while True:
            update = await watcher.step()
            self.log_history.extend(update.lines)
            self.throughput_history.extend(ev for ev in update.events if isinstance(ev, Throughput))
            self.run_state = update.state
            self._maybe_calibrate(update.state)
            screen = self.screen
            if (
                isinstance(screen, MonitorScreen)
                and screen.ready
                and screen.is_attached
                and (
                    update.lines
                    or update.events
                    or update.metrics
                    or update.progress
                    or not update.alive
                )
            ):
                try:
                    screen.apply_update(update)
                except NoMatches:  # the screen is being torn down (app exiting)
                    return
                now = self.services.clock()
                if (
                    now - last_gpu > 2
                    and self.snapshot is not None
                    and self.snapshot.gpus
                    and not self.services.demo
                ):
                    last_gpu = now
                    self._gpu_live(screen)
            if (
                not update.alive
                and update.state.state in ("stopped", "failed")
                and watcher.state.exit_code is not None
                or (not update.alive and update.state.state == "stopped")
            ):
                self.refresh_bindings()
                return
            await asyncio.sleep(0.1)

    @work(thread=True, exclusive=True, group="gpu-live")
    def _gpu_live(self, screen: Any) -> None:
        from tui.screens.monitor import gpu_memory_text

        snap = self.services.probe()
        text = gpu_memory_text(
            [
                (g.index, g.name, g.memory_used_bytes, g.memory_total_bytes)
                for g in snap.chosen(self.chosen or None)
            ]
        )
        self.call_from_thread(screen.show_gpu_memory, text)

    def _maybe_calibrate(self, state: RunState) -> None:
        mem = state.memory_dict
        if (
            self.calibrated
            or not self.launched_gpu
            or "weights_gib" not in mem
            or "kv_cache_gib" not in mem
        ):
            return
        from tui.adapters.calibration import record

        version = self.install.version if self.install else None
        try:
            self.calibrated = record(self.launched_gpu, self.config, version, mem)
        except OSError:
            self.calibrated = True

    def action_stop_server(self) -> None:
        if self.active_run is None:
            return
        if self.watcher is not None:
            self.watcher.stop_requested = True
        self._stop(self.active_run, then_exit=False)

    @work(thread=True, group="stop")
    def _stop(self, run: RunLike, then_exit: bool) -> None:
        self.call_from_thread(self.notify, f"stopping {run.id}…")
        left = self.services.launcher.stop(run)
        if left:
            self.call_from_thread(
                self.notify, f"processes still alive after SIGKILL: {left}", severity="error"
            )
        else:
            self.call_from_thread(self.notify, f"stopped {run.id}")
        if then_exit:
            self.call_from_thread(self.exit, 0)

    def _hangup(self) -> None:
        """The terminal went away (SSH dropped): stop an attached run cleanly, then exit."""
        if self.active_run is not None and self.active_run.alive():
            if self.watcher is not None:
                self.watcher.stop_requested = True
            self.services.launcher.stop(self.active_run)
        self.exit(0)

    async def action_quit(self) -> None:
        run = self.active_run
        if run is None or not run.alive() or self.run_state.state in ("stopped",):
            self.exit(0)
            return
        from tui.screens.modals import QuitModal

        def decide(choice: str | None) -> None:
            if choice == "stop":
                if self.watcher is not None:
                    self.watcher.stop_requested = True
                self._stop(run, then_exit=True)
            elif choice == "leave":
                self.exit(0)

        self.push_screen(QuitModal(run.id, run.url), decide)

    # -- LoRA hot-swap ------------------------------------------------------------------

    async def lora(
        self, action: str, name: str, path: str
    ) -> tuple[str, tuple[tuple[str, str], ...]]:
        http = self.services.http
        run = self.active_run
        if http is None or run is None:
            return "no server", ()
        key = self.config.get("api_key")
        status = ""
        if action == "load":
            reply = await http.load_lora(run.url, name, path, key)
            status = reply.text[:200]
        elif action == "unload":
            reply = await http.unload_lora(run.url, name, key)
            status = reply.text[:200]
        models = await http.models(run.url, key)
        adapters = tuple(
            (m.get("id", "?"), str(m.get("root") or "")) for m in models if m.get("parent")
        )
        return status or f"{len(adapters)} adapter(s)", adapters
