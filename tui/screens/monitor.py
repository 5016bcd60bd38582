"""MonitorScreen: the running server: startup phase, memory predicted vs reported, throughput,
the log, the root cause of a failure with a one-key fix, LoRA hot-swap, live GPU memory.

A view only: the app's `RunSession` owns the run; this screen renders what the session holds
and can leave and come back (escape) without touching the server. Below 120x36 the panels
become tabs (Server, Throughput, Log, LoRA) so each one gets the whole screen.
"""

from __future__ import annotations

from textual import getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.adapters.watcher import Update
from tui.app import VllmTuiApp
from tui.bindings import bindings
from tui.core.diagnose import Diagnosis
from tui.core.gpu_catalog import GiB
from tui.core.logparse import Throughput
from tui.core.runstate import RunState
from tui.messages import ApplyFix, GpuMemory
from tui.widgets.error_panel import ErrorPanel
from tui.widgets.lora_panel import LoraAction, LoraPanel
from tui.widgets.memory_compare import MemoryCompare
from tui.widgets.phase_bar import PhaseBar
from tui.widgets.server_log import ServerLog
from tui.widgets.throughput_panel import ThroughputPanel
from tui.widgets.title_bar import TitleBar

STATE_JA = {
    "starting": "起動中",
    "ready": "稼働中",
    "failed": "失敗",
    "stopping": "停止中",
    "stopped": "停止",
}


def compact_size(width: int, height: int) -> bool:
    """Tabs instead of side-by-side panels (80x24 and other small terminals)."""
    return width < 120 or height < 36


def shown_problem(st: RunState) -> tuple[Diagnosis | None, bool]:
    """(what the error panel shows, whether it is only a warning).

    A failed run shows its most specific *fatal* cause (a warning logged earlier never hides
    the real one); a run that goes on shows its most specific warning, as a warning.
    """
    fatal = [d for d in st.errors if d.fatal]
    if st.state == "failed":
        if fatal:
            return max(fatal, key=lambda d: d.rank), False
        return st.root_cause, False
    warnings = [d for d in st.errors if not d.fatal]
    if warnings:
        return max(warnings, key=lambda d: d.rank), True
    return None, False


class MonitorScreen(Screen[None]):
    CSS_PATH = "monitor.tcss"
    BINDINGS = bindings("monitor")
    BINDINGS_SCOPE = "monitor"
    app = getters.app(VllmTuiApp)

    def __init__(self) -> None:
        super().__init__()
        self.compact = compact_size(*self.app.size)
        self.shown_lines = 0
        self.shown_samples = 0

    def compose(self) -> ComposeResult:
        app = self.app
        lang = app.lang
        lora = bool(app.config.get("allow_runtime_lora_updating") or app.config.get("enable_lora"))
        yield TitleBar()
        if self.compact:
            with TabbedContent(id="monitor-tabs"):
                with TabPane(app.t("Server", "サーバー"), id="tab-server"), VerticalScroll():
                    yield PhaseBar(lang=lang, id="phase")
                    yield ErrorPanel(lang=lang, id="error")
                    yield MemoryCompare(lang=lang, id="memory")
                    yield Static("", id="gpu-live")
                with (
                    TabPane(app.t("Throughput", "スループット"), id="tab-throughput"),
                    VerticalScroll(),
                ):
                    yield ThroughputPanel(lang=lang, id="throughput")
                with TabPane(app.t("Log", "ログ"), id="tab-log"):
                    yield ServerLog(redact=app.secret_values(), lang=lang, id="log")
                if lora:
                    with TabPane("LoRA", id="tab-lora"):
                        yield LoraPanel(lang=lang, id="lora")
        else:
            with Horizontal(id="monitor-main"):
                with VerticalScroll(id="monitor-left"):
                    yield PhaseBar(lang=lang, id="phase")
                    yield ErrorPanel(lang=lang, id="error")
                    yield MemoryCompare(lang=lang, id="memory")
                    yield ThroughputPanel(lang=lang, id="throughput")
                    if lora:
                        yield LoraPanel(lang=lang, id="lora")
                    yield Static("", id="gpu-live")
                with Vertical(id="monitor-right"):
                    yield ServerLog(redact=app.secret_values(), lang=lang, id="log")
        yield Footer()

    def on_mount(self) -> None:
        from tui.bindings import apply_language

        apply_language(self, "monitor", self.app.lang)
        self.watch(self.app, "lang", self._relabel, init=False)
        self._fill()

    async def _relabel(self, _lang: str) -> None:
        """F9: every panel again in the other language (the session keeps the data)."""
        await self.recompose()
        self._fill()

    def _fill(self) -> None:
        """Everything the session already holds (a fresh run, a re-opened screen, attach)."""
        app, session = self.app, self.app.session
        log = self.query_one(ServerLog)
        run = session.run
        log.log_path = str(getattr(run, "log_path", "") or "")
        log.add_lines(list(session.log_history))
        self.shown_lines, self.shown_samples = session.total_lines, session.total_samples
        panel = self.query_one(ThroughputPanel)
        cfg = session.config or app.config
        panel.stats_disabled = bool(cfg.get("disable_log_stats"))
        for sample in session.throughput_history:
            panel.add_log_sample(sample)
        compare = self.query_one(MemoryCompare)
        if app.services.demo:
            # The demo replays a CPU run of a tiny model: a prediction for the H100 plan
            # would be compared with another machine's numbers, so none is shown.
            compare.note = app.t(
                "demo: a replayed CPU run of a tiny model; no prediction",
                "デモ: 小さなモデルの CPU 実行の再生。予測なし",
            )
            compare.predicted = None
        else:
            if getattr(app.install, "device", "cuda") == "cpu":
                compare.note = app.t(
                    "predicted for the GPU you plan for; this vLLM runs on the CPU",
                    "予測は計画中の GPU 向け。この vLLM は CPU で動作",
                )
            compare.predicted = session.estimate
        if getattr(run, "remote", False):  # a watched server (H6 hook)
            compare.note = app.t(
                "not available from the API: the startup memory report is only in the server's log",
                "API からは取得できません: 起動時のメモリ報告はサーバーのログにだけ出ます",
            )
            compare.predicted = None
        if run is not None and app.config.get("lora_modules"):
            self._lora_launched()
        self.render_state()

    async def on_resize(self, event: Resize) -> None:
        compact = compact_size(event.size.width, event.size.height)
        if compact != self.compact:
            self.compact = compact
            await self.recompose()
            self._fill()

    def render_state(self) -> None:
        app = self.app
        st = app.session.state
        run = app.session.run
        phase = self.query_one(PhaseBar)
        phase.state = st
        phase.url = run.url if run else ""
        self.query_one(MemoryCompare).actual = st.memory
        diag, warning = shown_problem(st)
        error = self.query_one(ErrorPanel)
        error.show(diag, warning=warning, failed=st.state == "failed", exit_code=st.exit_code)
        state = STATE_JA.get(st.state, st.state) if app.lang == "ja" else st.state
        self.sub_title = f"{run.model if run else ''} · {state}"

    def apply_update(self, update: Update, total_lines: int, total_samples: int) -> None:
        """An update of the session's run (the app forwards RunUpdated, ~10 a second at most).

        `total_*` count the run's lines/samples up to this update: what the screen already
        drew from the session's history when it was mounted is not drawn twice."""
        new_lines = min(len(update.lines), total_lines - self.shown_lines)
        if new_lines > 0:
            self.query_one(ServerLog).add_lines(update.lines[len(update.lines) - new_lines :])
            self.shown_lines = total_lines
        panel = self.query_one(ThroughputPanel)
        samples = [ev for ev in update.events if isinstance(ev, Throughput)]
        new_samples = min(len(samples), total_samples - self.shown_samples)
        if new_samples > 0:
            for ev in samples[len(samples) - new_samples :]:
                panel.add_log_sample(ev)
            self.shown_samples = total_samples
        if update.metrics is not None:
            panel.add_metrics_sample(update.metrics)
        self.query_one(PhaseBar).live_progress = (
            (update.progress.name, update.progress.progress) if update.progress else None
        )
        self.render_state()

    def on_gpu_memory(self, event: GpuMemory) -> None:
        self.query_one("#gpu-live", Static).update(event.text)

    # -- actions -----------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_back_watch(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A watched server (not started here) cannot be relaunched, and Esc goes back to the
        watched servers, not to a configure screen."""
        watched = self.app.session.watched()
        if action in ("back", "fix_relaunch"):
            return not watched
        if action == "back_watch":
            return watched
        return True

    def action_log_end(self) -> None:
        self.query_one(ServerLog).jump_to_end()

    def action_wrap_log(self) -> None:
        self.query_one(ServerLog).toggle_wrap()

    def action_fix_relaunch(self) -> None:
        """F8: apply the diagnosed fix and relaunch; with no fix, relaunch as configured."""
        if not self.query_one(ErrorPanel).apply(relaunch=True):
            self.app.action_launch(replace_active=True)

    def on_apply_fix(self, event: ApplyFix) -> None:
        self.app.apply_fix(event.changes, event.env, relaunch=event.relaunch)

    # -- LoRA ------------------------------------------------------------------------------

    def _lora_launched(self) -> None:
        from tui.core.lora import launched_adapters

        adapters = launched_adapters(self.app.config.get("lora_modules"))
        for panel in self.query(LoraPanel):
            panel.adapters = adapters

    def on_lora_action(self, event: LoraAction) -> None:
        self.run_lora(event.action, event.name, event.path)

    def run_lora(self, action: str, name: str, path: str) -> None:
        self.app.run_worker(
            self._lora(action, name, path), group="lora", exclusive=True, exit_on_error=False
        )

    async def _lora(self, action: str, name: str, path: str) -> None:
        from tui.adapters.lora import lora_call

        app = self.app
        run = app.session.run
        panel = self.query_one(LoraPanel)
        if run is None or app.services.http is None:
            panel.status = app.t("no server", "サーバーがありません")
            return
        cfg = app.session.config or app.config
        result = await lora_call(
            app.services.http,
            run.url,
            action,
            name,
            path,
            api_key=cfg.get("api_key"),
            max_loras=cfg.get("max_loras"),
            max_lora_rank=cfg.get("max_lora_rank"),
            local=not app.services.demo,
        )
        panel.status = result.message.get(app.lang)
        panel.ok = result.ok
        panel.adapters = result.adapters


def gpu_memory_text(gpus: list[tuple[int, str, int | None, int | None]]) -> str:
    rows = [
        f"GPU {i} {name.replace('NVIDIA ', '')[:20]}: {(used or 0) / GiB:.1f}/{(total or 0) / GiB:.1f} GiB"
        for i, name, used, total in gpus
    ]
    return "\n".join(rows)
