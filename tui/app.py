"""The Textual app: state (config, model facts, GPUs) and the actions on it.

One factory, `make_app`, builds it for the CLI, tests, `--demo` and screenshots. Screens are
views over the app's state. The run (launch, follow, stop, relaunch, attach) is a plain
`RunSession` that posts messages; the app's workers are thin, never fatal
(`exit_on_error=False`): a failure is shown as a notification and the app keeps running.
Dialogs live in `tui.dialogs`, keys in `tui.bindings`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui import dialogs
from tui.adapters.gpus import GpuSnapshot
from tui.adapters.services import RunLike, Services
from tui.bindings import apply_language, bindings, palette_entries
from tui.core.catalog import BY_DEST, Text, t
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.gpu_catalog import GpuSpec, find_gpu
from tui.core.model_facts import ModelFacts
from tui.core.plan import BLOCKING, INPUT_ERRORS, PlanResult, plan
from tui.core.runstate import RunState
from tui.messages import (
    GpuMemory,
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

DEFAULT_MODEL = "Qwen/Qwen3-8B"


class VllmTuiApp(App[int]):
    TITLE = "vllm-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = bindings("app")  # type: ignore[assignment]

    config: reactive[ServeConfig] = reactive(lambda: ServeConfig(DEFAULT_MODEL), repaint=False)
    """What `vllm serve` will run."""
    facts: reactive[ModelFacts | None] = reactive(None)
    model_error: reactive[str | None] = reactive(None)
    model_loading: reactive[bool] = reactive(False)
    snapshot: reactive[GpuSnapshot | None] = reactive(None)
    """Detected GPUs (None until the first probe)."""
    chosen: reactive[tuple[str, ...]] = reactive(())
    """GPU keys vLLM gets (empty = all visible)."""
    planning_gpu: reactive[str] = reactive("H100 80GB")
    planning_count: reactive[int] = reactive(0)
    """GPUs in the planned box (0 = as many as TP x PP x DP needs)."""
    lang: reactive[str] = reactive("en")
    install: reactive[Any] = reactive(None, bindings=True)
    """The vLLM to launch (None = planning only)."""
    known_options: reactive[frozenset[str] | None] = reactive(None)
    extra_options: reactive[tuple[dict[str, Any], ...]] = reactive(())
    run_state: reactive[RunState] = reactive(RunState, bindings=True)
    """The state of the session's run (mirrors `session.state`, for bindings and watchers)."""
    cached_models: reactive[tuple[str, ...]] = reactive(())

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
        self.set_reactive(VllmTuiApp.lang, lang)
        self.set_reactive(VllmTuiApp.config, ServeConfig(model or DEFAULT_MODEL))
        self.attach_to = attach
        self.vllm_path = vllm
        self._plan_cache: tuple[Any, PlanResult] | None = None
        self._last_gpu_probe = 0.0
        from tui.adapters.settings import load_settings

        settings = load_settings()
        self.set_reactive(VllmTuiApp.planning_gpu, settings.planning_gpu)
        self.set_reactive(VllmTuiApp.planning_count, int(settings.planning_gpu_count or 0))
        self.settings_warning = settings.warning

    # -- the run, as the screens see it -------------------------------------------------

    @property
    def active_run(self) -> RunLike | None:
        return self.session.run

    def t(self, en: str, ja: str) -> str:
        """A string in the current language."""
        return ja if self.lang == "ja" else en

    def say(self, text: Text | str, severity: str = "information", timeout: float = 5) -> None:
        """Notify in the current language."""
        message = text.get(self.lang) if isinstance(text, Text) else text
        self.notify(message, severity=severity, timeout=timeout)  # type: ignore[arg-type]

    # -- start-up -----------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui.screens.configure import ConfigureScreen

        self.push_screen(ConfigureScreen())
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

    @work(thread=True, exclusive=True, group="gpus", exit_on_error=False)
    def probe_gpus(self) -> None:
        snap = self.services.probe()
        self.post_message(GpusProbed(snap, tuple(self.services.cached_models())))

    @on(GpusProbed)
    def _gpus_probed(self, event: GpusProbed) -> None:
        self.snapshot = event.snapshot
        if event.cached_models is not None:
            self.cached_models = event.cached_models

    @work(thread=True, exclusive=True, group="vllm", exit_on_error=False)
    def find_vllm(self) -> None:
        try:
            install = self.services.find_vllm()
        except UserError as exc:
            self.post_message(VllmFound(None, exc.message))
            return
        self.post_message(VllmFound(install))
        if install is not None and self.services.introspect is not None:
            from tui.adapters.introspect import dump_options

            options = dump_options(install)
            names = frozenset(n for o in options for n in o["names"])
            self.post_message(OptionsFound(names, tuple(options)))

    @on(VllmFound)
    def _vllm_found(self, event: VllmFound) -> None:
        if event.error:
            self.notify(event.error, severity="error")
        self.install = event.install

    @on(OptionsFound)
    def _options_found(self, event: OptionsFound) -> None:
        self.known_options = event.names
        self.extra_options = event.options

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _resolve(self, ref: str) -> None:
        try:
            self.post_message(ModelResolved(ref, self.services.resolve_model(ref), None))
        except UserError as exc:
            self.post_message(ModelResolved(ref, None, exc.message))

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
            self._remember_model(event.ref)

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def _remember_model(self, ref: str) -> None:
        from tui.adapters.settings import load_settings, save_settings

        settings = load_settings()
        if settings.last_model != ref and not settings.warning:
            settings.last_model = ref
            try:
                save_settings(settings)
            except OSError:
                pass

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say so, keep running (harlequin's pattern)."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        what = event.worker.name or event.worker.group
        self.notify(
            self.t(f"{what} failed: {error}", f"{what} が失敗しました: {error}"),
            title=self.t("Error", "エラー"),
            severity="error",
            timeout=15,
        )

    # -- the plan (pure, memoised) ------------------------------------------------------

    def target_gpus(self) -> tuple[tuple[GpuSpec, ...], bool]:
        snap = self.snapshot
        if snap is not None and snap.visible_gpus():
            return tuple(g.as_spec() for g in snap.chosen(self.chosen or None)), False
        gpu = find_gpu(self.planning_gpu) or find_gpu("H100 80GB")
        assert gpu is not None
        cfg = self.config
        need = (
            int(cfg.get("tensor_parallel_size") or 1)
            * int(cfg.get("pipeline_parallel_size") or 1)
            * int(cfg.get("data_parallel_size") or 1)
        )
        return (gpu,) * (self.planning_count or need), True

    def current_plan(self) -> PlanResult:
        gpus, planning = self.target_gpus()
        version = self.install.version if self.install else None
        # The rules follow the target: a GPU box (detected or planned), even when the vLLM
        # installed here is the CPU build.
        device = "cuda"
        key = (self.config, self.facts, gpus, version, self.known_options, device)
        if self._plan_cache is not None and self._plan_cache[0] == key:
            return self._plan_cache[1]
        measured = {}
        if gpus and self.facts is not None:
            from tui.adapters.calibration import lookup

            measured = lookup(gpus[0].name, self.config, version)
        result = plan(self.facts, self.config, gpus, planning=planning, vllm_version=version, known_options=self.known_options,
                      measured=measured, device=device)  # fmt: skip
        if self.facts is None:
            result = PlanResult(None, result.findings, gpus, planning)
        self._plan_cache = (key, result)
        return result

    def header_subtitle(self, result: PlanResult) -> str:
        gpus = result.gpus
        where = f"{len(gpus)} x {gpus[0].name}" if gpus else self.t("no GPU", "GPU なし")
        mode = (
            self.t("planning", "計画モード") if result.planning else self.t("detected", "検出済み")
        )
        vllm = (
            f"vLLM {self.install.version}"
            if self.install
            else self.t("no vLLM (planning only)", "vLLM なし（計画のみ）")
        )
        return f"{self.config.model} · {where} ({mode}) · {vllm}"

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

    def set_planning_gpu(self, name: str, count: int) -> None:
        self.planning_gpu, self.planning_count = name, count
        from tui.adapters.settings import load_settings, save_settings

        settings = load_settings()
        settings.planning_gpu, settings.planning_gpu_count = name, count
        try:
            save_settings(settings)
        except OSError:
            pass

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
        from tui.screens.monitor import MonitorScreen

        return isinstance(self.screen, MonitorScreen)

    def action_launch(self, replace_active: bool = False) -> None:
        if self.install is None:
            self.say(
                t(
                    "No vLLM found: planning mode (install vLLM or start with --vllm PATH).",
                    "vLLM が見つかりません: 計画モードです（vLLM を入れるか --vllm PATH で起動）。",
                ),
                "error",
            )
            return
        if self.session.alive() and not replace_active:
            self.say(
                t(
                    "A server is already running: stop it first (Ctrl+X).",
                    "サーバーが実行中です: 先に停止してください（Ctrl+X）。",
                ),
                "warning",
            )
            return
        result = self.current_plan()
        blocking = [
            f
            for f in result.findings
            if f.level == "error" and (f.code in BLOCKING or f.code in INPUT_ERRORS)
        ]
        if blocking:
            msg = blocking[0].message.get(self.lang)
            self.say(
                t(
                    f"Not launching: {msg} (Ctrl+F applies the fix)",
                    f"起動しません: {msg}（Ctrl+F で修正を適用）",
                ),
                "error",
                timeout=8,
            )
            if self._on_monitor():
                self.pop_screen()
            return
        gpu_name = result.gpus[0].name if result.gpus else None
        gen = self.session.begin(
            self.config, result.estimate, gpu_name, self.install, replace=replace_active
        )
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
        if event.gen != self.session.gen:
            return
        self.workers.cancel_group(self, "follow")
        self.run_state = self.session.state
        if self._on_monitor():  # a relaunch: the monitor shows the new run at once
            self._show_monitor(fresh=True)

    @on(RunStarted)
    def _run_started(self, event: RunStarted) -> None:
        if event.gen != self.session.gen:
            return
        self._run_attached = event.attached  # a hang-up leaves an attached run running
        if event.attached:
            self._adopt_attached(event.run)
        self._show_monitor(fresh=self._on_monitor())
        self._follow(event.gen)

    def _adopt_attached(self, run: RunLike) -> None:
        """Show the attached server's flags and remember its vLLM (Esc goes to them)."""
        info = getattr(run, "info", None) or {}
        cfg = _config_of_run(info)
        if cfg is not None:
            self.config = cfg
            self.load_model(cfg.model)
        python = info.get("vllm_python")
        if isinstance(python, str) and python and self.install is None and not self.services.demo:
            self._adopt_vllm(python)

    @work(thread=True, exclusive=True, group="vllm", exit_on_error=False)
    def _adopt_vllm(self, python: str) -> None:
        from tui.adapters.settings import load_settings, save_settings
        from tui.adapters.vllm_env import resolve_vllm

        install = resolve_vllm(python)
        if install is None:
            return
        self.post_message(VllmFound(install))
        settings = load_settings()
        if not settings.warning and settings.vllm_path != python:
            settings.vllm_path = python
            try:
                save_settings(settings)
            except OSError:
                pass

    @on(RunUpdated)
    def _run_updated(self, event: RunUpdated) -> None:
        if event.gen != self.session.gen:
            return
        self.run_state = self.session.state
        from tui.screens.monitor import MonitorScreen

        screen = self.screen
        if isinstance(screen, MonitorScreen) and screen.is_mounted:
            screen.apply_update(event.update, event.total_lines, event.total_samples)
        now = self.services.clock()
        if (
            now - self._last_gpu_probe > 2
            and self.snapshot is not None
            and self.snapshot.gpus
            and not self.services.demo
        ):
            self._last_gpu_probe = now
            self._gpu_live()
        if not event.update.alive:
            self.refresh_bindings()

    @on(RunNotice)
    def _run_notice(self, event: RunNotice) -> None:
        self.say(event.text, event.severity, timeout=10)

    @on(RunLaunchRefused)
    def _run_refused(self, event: RunLaunchRefused) -> None:
        if event.gen != self.session.gen:
            return
        self.say(t(f"Not launched: {event.text}", f"起動しませんでした: {event.text}"), "error", 10)
        self.run_state = self.session.state
        if self._on_monitor():
            self.pop_screen()
        fix = event.fix
        if isinstance(fix, dict) and fix:
            self.apply_fix({k: v for k, v in fix.items() if k != "env"}, fix.get("env"))
        elif fix is not None and hasattr(fix, "set"):
            self.apply_fix(dict(fix.set), dict(fix.env))

    @work(thread=True, exclusive=True, group="gpu-live", exit_on_error=False)
    def _gpu_live(self) -> None:
        from tui.screens.monitor import gpu_memory_text

        snap = self.services.probe()
        self.post_message(
            GpuMemory(
                gpu_memory_text(
                    [
                        (g.index, g.name, g.memory_used_bytes, g.memory_total_bytes)
                        for g in snap.chosen(self.chosen or None)
                    ]
                )
            )
        )

    def _show_monitor(self, fresh: bool = False) -> None:
        from tui.screens.monitor import MonitorScreen

        if self._on_monitor():
            if fresh:
                self.switch_screen(MonitorScreen())
        else:
            self.push_screen(MonitorScreen())

    def show_monitor(self) -> None:
        self._show_monitor()

    def action_stop_server(self) -> None:
        run = self.session.run
        if run is None or getattr(run, "remote", False):  # a watched server is not ours
            return
        from tui.screens.modals import ConfirmModal

        def decide(yes: bool | None) -> None:
            if yes:
                self._stop(self.session.request_stop(), then_exit=False)

        self.push_screen(
            ConfirmModal(
                self.t(f"Stop the server {run.id}?", f"サーバー {run.id} を停止しますか？"),
                self.t(
                    f"It serves {run.url}; requests in flight are cut off.",
                    f"{run.url} で応答中です。処理中のリクエストは打ち切られます。",
                ),
                self.t("Stop server", "停止する"),
                self.t("Cancel", "キャンセル"),
            ),
            decide,
        )

    def stop_run(self, run: RunLike) -> None:
        """Stop any run (F6); the session's own is marked as stopped on purpose first."""
        if self.session.run is not None and run.id == self.session.run.id:
            self.session.request_stop()
        self._stop(run, then_exit=False)

    @work(thread=True, group="stop", exit_on_error=False)
    def _stop(self, run: RunLike | None, then_exit: bool) -> None:
        if run is not None:
            self.session.stop(run)
        if then_exit:
            self.call_from_thread(self.exit, 0)

    def _hangup(self) -> None:
        """The terminal went away (SSH dropped): stop the run only if this session launched
        it (an attached one is left running), then exit - within a deadline, as Textual's
        shutdown can block on a dead terminal (tui.adapters.hangup)."""
        from tui.adapters.hangup import hang_up

        run = self.session.run
        attached = getattr(self, "_run_attached", False)

        def stop(r: RunLike) -> None:
            self.session.request_stop()
            self.services.launcher.stop(r)

        hang_up(run, launched_here=not attached, stop=stop)
        self.exit(0)

    async def action_quit(self) -> None:
        run = self.session.run
        if run is None or not run.alive() or self.run_state.state == "stopped":
            self.exit(0)
            return
        from tui.screens.modals import QuitModal

        def decide(choice: str | None) -> None:
            if choice == "stop":
                self._stop(self.session.request_stop(), then_exit=True)
            elif choice == "leave":
                self.exit(0)

        self.push_screen(QuitModal(run.id, run.url, self.lang), decide)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return None if self.install is None else True
        if action == "stop_server":
            return True if self.session.can_stop() else None
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
        for title, help_text, action in palette_entries(self.lang):
            name = action.removeprefix("app.")
            callback = getattr(self, f"action_{name}", None)
            if callback is not None:
                yield SystemCommand(title, help_text, callback)
        yield SystemCommand(
            self.t("Re-detect GPUs", "GPU を再検出"),
            self.t("Probe NVML again", "NVML で再度検出"),
            self.probe_gpus,
        )
        yield SystemCommand(  # H6 hook
            self.t("Watch a server", "サーバーを監視"),
            self.t(
                "Monitor vLLM servers started elsewhere, from their HTTP API",
                "他で起動された vLLM サーバーを HTTP API から監視",
            ),
            self.action_watch_server,
        )

    def action_watch_server(self) -> None:
        from tui.screens.watch import watch_dialog

        watch_dialog(self)


def _config_of_run(info: Any) -> ServeConfig | None:
    """The flags a run was launched with (its run.json; secrets were never stored)."""
    values = info.get("config")
    model = info.get("model")
    if not isinstance(values, dict) or not isinstance(model, str):
        return None
    try:
        cfg = ServeConfig(model).update(
            {k: v for k, v in values.items() if v != "****" and k in BY_DEST}
        )
    except UserError:
        return None
    devices = info.get("cuda_visible_devices")
    return cfg.with_gpus(str(devices)) if devices else cfg


def make_app(
    *,
    services: Services | None = None,
    demo: bool = False,
    lang: str = "en",
    vllm: str | None = None,
    model: str | None = None,
    attach: str | None = None,
    watch: tuple[str, ...] = (),
    watch_key: str | None = None,
) -> VllmTuiApp:
    """The one way the app is built (CLI, tests, demo, screenshots)."""
    if services is None:
        services = Services.demo_services() if demo else Services.real(vllm)
    if model is None and not demo:
        from tui.adapters.settings import load_settings

        model = load_settings().last_model
    return VllmTuiApp(
        services, lang=lang, model=model, attach=attach, vllm=vllm, watch=watch, watch_key=watch_key
    )


__all__ = ["RunMessage", "VllmTuiApp", "make_app"]
