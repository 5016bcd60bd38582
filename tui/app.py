"""The Textual app: state (config, model facts, GPUs) and the actions on it.

One factory, `make_app` (tui.startup), builds it for the CLI, tests, `--demo` and screenshots;
it starts in stages (see `on_ready`): the first frame, then what fills it in. Screens are
views over the app's state. The run (launch, follow, stop, relaunch, attach) is a plain
`RunSession` that posts messages; the app's workers are thin, never fatal
(`exit_on_error=False`): a failure is shown as a notification and the app keeps running.
Dialogs live in `tui.dialogs`, keys in `tui.bindings`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui import dialogs, planning, remember, run_actions, startup
from tui.app_state import DEFAULT_MODEL, AppState
from tui.bindings import apply_language
from tui.core.catalog import BY_DEST, t
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.messages import (
    GpuMemory,
    GpuRowsShown,
    GpusProbed,
    ModelResolved,
    OptionsFound,
    RunLaunchRefused,
    RunMessage,
    RunNotice,
    RunStarted,
    RunStarting,
    RunUpdated,
    VllmFound,
)
from tui.session import RunSession
from tui.startup import make_app

if TYPE_CHECKING:  # the first frame needs none of these; each loads where it is used
    from tui.adapters.gpus import GpuSnapshot
    from tui.adapters.services import RunLike, Services
    from tui.core.gpu_catalog import GpuSpec
    from tui.core.plan import PlanResult


class VllmTuiApp(AppState):
    """The app: start-up facts, the config, the run session, dialogs (see module doc)."""

    def __init__(
        self,
        services: Services,
        *,
        lang: str = "en",
        model: str | None = None,
        attach: str | None = None,
        vllm: str | None = None,
        watch: tuple[str, ...] = (),
        watch_key: str | None = None,
    ) -> None:
        super().__init__()
        self.watch_urls, self._watch_key = watch, watch_key  # `--watch URL` (H6 hook)
        self.services = services
        self.session = RunSession(services, self.post_message)
        self.set_reactive(AppState.lang, lang)
        self.set_reactive(AppState.config, ServeConfig(model or DEFAULT_MODEL))
        self.attach_to, self.vllm_path = attach, vllm
        self._plan_cache: tuple[Any, PlanResult] | None = None
        self.last_gpu_probe = 0.0
        self.first_frame = threading.Event()
        """Set with the first frame; start-up workers wait for it (at most 2 s, see on_ready)."""
        from tui.adapters.settings import load_settings

        settings = load_settings()
        self.set_reactive(AppState.planning_gpu, settings.planning_gpu)
        self.set_reactive(AppState.planning_count, int(settings.planning_gpu_count or 0))
        self.set_reactive(AppState.planning_nodes, int(settings.planning_nodes or 1))
        self.settings_warning = settings.warning
        self.gpu_rows = int(settings.gpu_rows or 0)  # held by the first frame's GPU panel

    # -- the run, as the screens see it -------------------------------------------------

    @property
    def active_run(self) -> RunLike | None:
        return self.session.run

    # -- start-up -----------------------------------------------------------------------

    CSS_PATH = "screens/configure.tcss"
    """The first screen's CSS (Textual does not load a default screen's CSS_PATH)."""

    def get_default_screen(self) -> Screen[Any]:
        return startup.first_screen()  # pushed from on_mount, Textual drops its frame

    def on_mount(self) -> None:
        self.probe_gpus()
        self.find_vllm()
        self.load_model(self.config.model)
        if self.attach_to:
            self.call_after_refresh(self.attach, self.attach_to)
        if self.watch_urls:
            from tui.screens.watch import open_watch

            self.call_after_refresh(open_watch, self, self.watch_urls, self._watch_key)
        if self.settings_warning:
            self.notify(self.settings_warning, severity="warning")
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def on_ready(self) -> None:
        """The first frame is up: the start-up workers (NVML, HF cache, vLLM, the model's
        facts) go on, so they neither slow it nor recompose the GPU panel inside it. Textual
        drops a frame drawn while a batch is open (a recompose): the screen is painted again."""
        self.first_frame.set()
        startup.first_frame_drawn()
        self.screen.refresh()

    @work(thread=True, exclusive=True, group="gpus", exit_on_error=False)
    def probe_gpus(self) -> None:
        self.first_frame.wait(2.0)
        self.post_message(startup.probe(self.services))

    @on(GpusProbed)
    def _gpus_probed(self, event: GpusProbed) -> None:
        self.snapshot = event.snapshot
        if event.cached_models is not None:
            self.cached_models = event.cached_models

    @on(GpuRowsShown)
    def _gpu_rows_shown(self, event: GpuRowsShown) -> None:
        if event.rows != self.gpu_rows and not self.services.demo:
            self.gpu_rows = event.rows
            self._remember(lambda: remember.gpu_rows(self.gpu_rows))  # the latest, in any order

    @work(thread=True, group="settings", exit_on_error=False)
    def _remember(self, change: Callable[[], None]) -> None:
        change()  # what the next start should know (tui.remember; best effort, off the UI)

    @work(thread=True, exclusive=True, group="vllm", exit_on_error=False)
    def find_vllm(self) -> None:
        self.first_frame.wait(2.0)
        for message in startup.find_vllm(self.services):
            self.post_message(message)

    @on(VllmFound)
    def _vllm_found(self, event: VllmFound) -> None:
        if event.error:
            self.notify(event.error, severity="error")
        self.install = event.install
        if self.vllm_path and event.install is not None and not self.services.demo:
            self._remember(partial(remember.vllm_path, self.vllm_path))  # `--vllm` sticks

    @on(OptionsFound)
    def _options_found(self, event: OptionsFound) -> None:
        self.known_options = event.names
        self.extra_options = event.options

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _resolve(self, ref: str) -> None:
        self.first_frame.wait(2.0)
        self.post_message(startup.resolve(self.services, ref))

    def load_model(self, ref: str) -> None:
        if ref != self.config.model:
            self.config = self.config.with_model(ref)
        self.model_loading = True
        self._resolve(ref)

    @on(ModelResolved)
    def _model_resolved(self, event: ModelResolved) -> None:
        if event.ref != self.config.model:
            return  # a newer model was asked for meanwhile
        self.model_loading = False
        self.facts = event.facts
        self.model_error = event.error
        if event.facts is not None and not self.services.demo:
            self._remember(partial(remember.last_model, event.ref))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say so, keep running (harlequin's pattern)."""
        if event.state == WorkerState.ERROR:
            run_actions.worker_failed(self, event.worker)

    # -- the plan (pure, memoised) ------------------------------------------------------

    def target_gpus(self) -> tuple[tuple[GpuSpec, ...], bool]:
        return planning.target_gpus(self)

    def current_plan(self) -> PlanResult:
        return planning.current_plan(self)

    def header_subtitle(self, result: PlanResult) -> str:
        return planning.header_subtitle(self, result)

    # -- changing the config ------------------------------------------------------------

    def set_flag(self, dest: str, value: Any) -> None:
        try:
            self.config = self.config.unset(dest) if value is None else self.config.set(dest, value)
        except UserError as exc:
            self.notify(exc.message, severity="error")

    def apply_fix(
        self, changes: dict[str, Any], env: dict[str, str] | None = None, relaunch: bool = False
    ) -> None:
        try:
            cfg = self.config.update(changes)
        except UserError as exc:
            self.notify(exc.message, severity="error")
            return
        if env:
            cfg = cfg.with_env(dict(cfg.env) | env)
        self.config = cfg
        summary = ", ".join(
            [f"{BY_DEST[k].flag if k in BY_DEST else k} {v}" for k, v in changes.items()]
            + [f"{k}={v}" for k, v in (env or {}).items()]
        )
        self.say(t(f"applied: {summary}", f"適用しました: {summary}"))
        if relaunch:
            self.action_launch(replace_active=True)
        elif self._on_monitor():
            self.pop_screen()

    def choose_gpus(self, keys: tuple[str, ...]) -> None:
        self.chosen = keys

    def set_planning_gpu(self, name: str, count: int, nodes: int = 1) -> None:
        self.planning_gpu, self.planning_count, self.planning_nodes = name, count, nodes
        remember.planning_gpu(name, count, nodes)

    def secret_values(self) -> list[str]:
        return [
            str(self.config.get(s.dest))
            for s in BY_DEST.values()
            if s.secret and self.config.get(s.dest)
        ]

    # -- language -----------------------------------------------------------------------

    def watch_lang(self, lang: str) -> None:
        for screen in self.screen_stack:
            scope = getattr(screen, "BINDINGS_SCOPE", None)
            if isinstance(scope, str):
                apply_language(screen, scope, lang)

    # -- run control: thin actions and workers over the session -------------------------

    def _on_monitor(self) -> bool:
        return run_actions.on_monitor(self)

    def action_launch(self, replace_active: bool = False) -> None:
        gen = run_actions.launch(self, replace_active)
        if gen is not None:
            self._launch(gen, self.config, self.snapshot, self.chosen)

    @work(thread=True, exclusive=True, group="launch", exit_on_error=False)
    def _launch(
        self, gen: int, cfg: ServeConfig, snap: GpuSnapshot | None, chosen: tuple[str, ...]
    ) -> None:
        if snap is not None and snap.gpus:
            snap = self.services.probe()  # free memory now, not at start-up
            self.post_message(GpusProbed(snap))
        self.session.launch(gen, cfg, snap, chosen)

    def attach(self, run_id: str) -> None:
        if self.session.attach(run_id) is None:
            self.say(t(f"no run {run_id}", f"実行 {run_id} はありません"), "error")

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def _follow(self, gen: int) -> None:
        await self.session.follow(gen)

    @on(RunStarting)
    def _run_starting(self, event: RunStarting) -> None:
        if event.gen == self.session.gen:
            run_actions.starting(self)

    @on(RunStarted)
    def _run_started(self, event: RunStarted) -> None:
        if event.gen != self.session.gen:
            return
        if event.attached:
            run_actions.adopt_attached(self, event.run)
        self.show_monitor(fresh=self._on_monitor())
        self._follow(event.gen)

    @work(thread=True, exclusive=True, group="vllm", exit_on_error=False)
    def adopt_vllm(self, python: str) -> None:
        """The attached run's vLLM becomes this app's (and is remembered in settings)."""
        found = startup.adopt_vllm(python)
        if found is not None:
            self.post_message(found)

    @on(RunUpdated)
    def _run_updated(self, event: RunUpdated) -> None:
        if event.gen == self.session.gen:
            run_actions.updated(self, event)

    @on(RunNotice)
    def _run_notice(self, event: RunNotice) -> None:
        self.say(event.text, event.severity, timeout=10)

    @on(RunLaunchRefused)
    def _run_refused(self, event: RunLaunchRefused) -> None:
        if event.gen == self.session.gen:
            run_actions.refused(self, event)

    @work(thread=True, exclusive=True, group="gpu-live", exit_on_error=False)
    def gpu_live(self) -> None:
        self.post_message(GpuMemory(run_actions.gpu_memory(self, self.services.probe())))

    def show_monitor(self, fresh: bool = False) -> None:
        from tui.screens.monitor import MonitorScreen

        if self._on_monitor():
            if fresh:
                self.switch_screen(MonitorScreen())
        else:
            self.push_screen(MonitorScreen())

    def action_stop_server(self) -> None:
        run_actions.confirm_stop(self)

    def stop_run(self, run: RunLike) -> None:
        """Stop any run (F6); the session's own is marked as stopped on purpose first."""
        if self.session.run is not None and run.id == self.session.run.id:
            self.session.request_stop()
        self.stop_worker(run, then_exit=False)

    @work(thread=True, group="stop", exit_on_error=False)
    def stop_worker(self, run: RunLike | None, then_exit: bool) -> None:
        if run is not None:
            self.session.stop(run)
        if then_exit:
            self.call_from_thread(self.exit, 0)

    def _hangup(self) -> None:
        run_actions.hangup(self)

    async def action_quit(self) -> None:
        run_actions.quit_app(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return None if self.install is None else True
        if action == "stop_server":  # hidden for a watched server: it is not ours to stop
            return True if self.session.can_stop() else (False if self.session.watched() else None)
        return True

    # -- dialogs (tui.dialogs) ----------------------------------------------------------

    def action_help(self) -> None:
        dialogs.show_help(self)

    def action_toggle_lang(self) -> None:
        self.lang = "ja" if self.lang == "en" else "en"

    def action_why(self) -> None:
        dialogs.show_why(self)

    def command_text(self) -> str:
        return dialogs.command_text(self)

    def action_copy_command(self) -> None:
        dialogs.copy_command(self)

    def action_import_config(self) -> None:
        dialogs.import_config(self)

    def action_export(self) -> None:
        dialogs.export(self)

    def action_profiles(self) -> None:
        dialogs.profiles(self)

    def action_runs(self) -> None:
        dialogs.runs(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from dialogs.system_commands(self)

    def action_watch_server(self) -> None:
        from tui.screens.watch import watch_dialog

        watch_dialog(self)


__all__ = ["RunMessage", "VllmTuiApp", "make_app"]
