"""The Textual app: state (config, model facts, GPUs, the active run) and the actions on it.

One factory, `make_app`, builds it for the CLI, tests, `--demo` and screenshots. Screens are
views over the app's state; slow work (NVML, model resolution, vLLM introspection, HTTP, the
server's log) runs in workers and never blocks the UI.
"""

from __future__ import annotations

import asyncio
import signal
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from tui.adapters.gpus import GpuSnapshot
from tui.adapters.services import RunLike, Services, WatcherLike
from tui.app_dialogs import Dialogs
from tui.app_run import RunControl
from tui.core.catalog import BY_DEST
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.estimate import Estimate
from tui.core.gpu_catalog import GpuSpec, find_gpu
from tui.core.logparse import Throughput
from tui.core.model_facts import ModelFacts
from tui.core.plan import PlanResult, plan
from tui.core.runstate import RunState

DEFAULT_MODEL = "Qwen/Qwen3-8B"


class VllmTuiApp(RunControl, Dialogs, App[int]):
    TITLE = "vllm-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    config: reactive[ServeConfig] = reactive(lambda: ServeConfig(DEFAULT_MODEL))
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
    cached_models: reactive[tuple[str, ...]] = reactive(())

    def __init__(
        self,
        services: Services,
        *,
        lang: str = "en",
        model: str | None = None,
        attach: str | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.set_reactive(VllmTuiApp.lang, lang)
        self.set_reactive(VllmTuiApp.config, ServeConfig(model or DEFAULT_MODEL))
        self.attach_to = attach
        self.active_run: RunLike | None = None
        self.watcher: WatcherLike | None = None
        self.launched_estimate: Estimate | None = None
        self.launched_gpu: str | None = None
        self.log_history: deque[str] = deque(maxlen=20000)
        self.throughput_history: deque[Throughput] = deque(maxlen=720)
        self.calibrated = False
        self._plan_cache: tuple[Any, PlanResult] | None = None
        from tui.adapters.settings import load_settings

        settings = load_settings()
        self.set_reactive(VllmTuiApp.planning_gpu, settings.planning_gpu)
        self.settings_warning = settings.warning

    # -- start-up -----------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui.screens.configure import ConfigureScreen

        self.push_screen(ConfigureScreen())
        self.probe_gpus()
        self.find_vllm()
        self.load_model(self.config.model)
        if self.attach_to:
            self.call_after_refresh(self.attach, self.attach_to)
        if self.settings_warning:
            self.notify(self.settings_warning, severity="warning")
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    @work(thread=True, exclusive=True, group="gpus")
    def probe_gpus(self) -> None:
        snap = self.services.probe()
        self.call_from_thread(setattr, self, "snapshot", snap)
        cached = tuple(self.services.cached_models())
        self.call_from_thread(setattr, self, "cached_models", cached)

    @work(thread=True, exclusive=True, group="vllm")
    def find_vllm(self) -> None:
        try:
            install = self.services.find_vllm()
        except UserError as exc:
            self.call_from_thread(self.notify, exc.message, severity="error")
            install = None
        self.call_from_thread(setattr, self, "install", install)
        if install is not None and self.services.introspect is not None:
            from tui.adapters.introspect import dump_options

            try:
                options = dump_options(install)
            except Exception:
                return
            names = frozenset(n for o in options for n in o["names"])
            self.call_from_thread(self._set_options, names, tuple(options))

    def _set_options(self, names: frozenset[str], options: tuple[dict[str, Any], ...]) -> None:
        self.known_options = names
        self.extra_options = options

    @work(thread=True, exclusive=True, group="model")
    def _resolve(self, ref: str) -> None:
        try:
            facts: ModelFacts | None = self.services.resolve_model(ref)
            error = None
        except UserError as exc:
            facts, error = None, exc.message
        self.call_from_thread(self._model_resolved, ref, facts, error)

    def load_model(self, ref: str) -> None:
        if ref != self.config.model:
            self.config = self.config.with_model(ref)
        self.model_loading = True
        self._resolve(ref)

    def _model_resolved(self, ref: str, facts: ModelFacts | None, error: str | None) -> None:
        if ref != self.config.model:
            return  # a newer model was asked for meanwhile
        self.model_loading = False
        self.facts = facts
        self.model_error = error
        if facts is not None and not self.services.demo:
            self._remember_model(ref)

    @work(thread=True, exclusive=True, group="settings")
    def _remember_model(self, ref: str) -> None:
        from tui.adapters.settings import load_settings, save_settings

        settings = load_settings()
        if settings.last_model != ref and not settings.warning:
            settings.last_model = ref
            try:
                save_settings(settings)
            except OSError:
                pass

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
        where = f"{len(gpus)} x {gpus[0].name}" if gpus else "no GPU"
        mode = "planning" if result.planning else "detected"
        vllm = f"vLLM {self.install.version}" if self.install else "no vLLM (planning only)"
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
            f"{BY_DEST[k].flag if k in BY_DEST else k}={v}" for k, v in changes.items()
        )
        self.notify(f"applied: {summary or ', '.join(env or {})}")
        if relaunch:
            self.action_launch(replace_active=True)
        elif isinstance(self.screen, Screen) and self.screen.__class__.__name__ == "MonitorScreen":
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return None if self.install is None else True
        if action == "stop_server":
            return (
                True
                if self.active_run is not None
                and self.run_state.state in ("starting", "ready", "failed")
                else None
            )
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            ("Launch", "Start vLLM with the current flags (F5)", self.action_launch),
            ("Stop server", "Stop the running server (Ctrl+X)", self.action_stop_server),
            ("Import", "Paste a vllm serve command or YAML config (F2)", self.action_import_config),
            ("Export", "Command, YAML or shell script (F3)", self.action_export),
            ("Copy command", "Copy the command via OSC 52 (Ctrl+Y)", self.action_copy_command),
            ("Profiles", "Save or load a named config (F4)", self.action_profiles),
            ("Runs", "Attach to or stop a server (F6)", self.action_runs),
            ("Why this number", "Each memory term explained (F7)", self.action_why),
            ("Language", "English / 日本語 (F9)", self.action_toggle_lang),
            ("Keys", "All key bindings (F1)", self.action_help),
            ("Re-detect GPUs", "Probe NVML again", self.probe_gpus),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)


def make_app(
    *,
    services: Services | None = None,
    demo: bool = False,
    lang: str = "en",
    vllm: str | None = None,
    model: str | None = None,
    attach: str | None = None,
) -> VllmTuiApp:
    """The one way the app is built (CLI, tests, demo, screenshots)."""
    if services is None:
        services = Services.demo_services() if demo else Services.real(vllm)
    if model is None and not demo:
        from tui.adapters.settings import load_settings

        model = load_settings().last_model
    return VllmTuiApp(services, lang=lang, model=model, attach=attach)
