"""MonitorScreen: the running server: startup phase, memory predicted vs reported, throughput,
the log, the root cause of a failure with a one-key fix, LoRA hot-swap, live GPU memory.

A view only: the app owns the run and its watcher; this screen renders what the app holds and
can leave and come back (escape) without touching the server.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tui.adapters.watcher import Update
from tui.core.gpu_catalog import GiB
from tui.core.logparse import Throughput
from tui.messages import ApplyFix
from tui.widgets.error_panel import ErrorPanel
from tui.widgets.lora_panel import LoraAction, LoraPanel
from tui.widgets.memory_compare import MemoryCompare
from tui.widgets.phase_bar import PhaseBar
from tui.widgets.server_log import ServerLog
from tui.widgets.throughput_panel import ThroughputPanel


class MonitorScreen(Screen):
    CSS_PATH = "monitor.tcss"
    BINDINGS = [
        Binding("ctrl+x", "app.stop_server", "Stop"),
        Binding("escape", "back", "Configure"),
        Binding("f8", "fix_relaunch", "Fix+relaunch"),
        Binding("f6", "app.runs", "Runs"),
        Binding("f9", "app.toggle_lang", "日本語/EN"),
        Binding("end", "log_end", "Log end", show=False),
    ]

    ready = False
    """Set once mounted: the app's follow worker only sends updates to a ready screen."""

    def compose(self) -> ComposeResult:
        app = self.app
        yield Header()
        with Horizontal(id="monitor-main"):
            with VerticalScroll(id="monitor-left"):
                yield PhaseBar(id="phase")
                yield ErrorPanel(id="error")
                yield MemoryCompare(id="memory")
                yield ThroughputPanel(id="throughput")
                if app.config.get("allow_runtime_lora_updating"):  # type: ignore[attr-defined]
                    yield LoraPanel(id="lora")
                yield Static("", id="gpu-live")
            with Vertical(id="monitor-right"):
                yield ServerLog(redact=app.secret_values(), id="log")  # type: ignore[attr-defined]
        yield Footer()

    def on_mount(self) -> None:
        app = self.app
        log = self.query_one(ServerLog)
        run = app.active_run  # type: ignore[attr-defined]
        log.log_path = str(getattr(run, "log_path", "") or "")
        self.query_one(ThroughputPanel).stats_disabled = bool(app.config.get("disable_log_stats"))  # type: ignore[attr-defined]
        history = list(app.log_history)  # type: ignore[attr-defined]
        if history:
            log.add_lines(history)
        for sample in app.throughput_history:  # type: ignore[attr-defined]
            self.query_one(ThroughputPanel).add_log_sample(sample)
        compare = self.query_one(MemoryCompare)
        compare.predicted = app.launched_estimate  # type: ignore[attr-defined]
        if app.services.demo:  # type: ignore[attr-defined]
            compare.note = "demo: replaying a CPU run of a tiny model"
        elif getattr(app.install, "device", "cuda") == "cpu":  # type: ignore[attr-defined]
            compare.note = "predicted for the GPU you plan for; this vLLM runs on the CPU"
        self.render_state()
        self.ready = True

    def render_state(self) -> None:
        app = self.app
        st = app.run_state  # type: ignore[attr-defined]
        phase = self.query_one(PhaseBar)
        phase.state = st
        run = app.active_run  # type: ignore[attr-defined]
        phase.url = run.url if run else ""
        self.query_one(MemoryCompare).actual = st.memory
        self.query_one(ErrorPanel).diagnosis = st.root_cause if st.state == "failed" else None
        self.sub_title = f"{run.model if run else ''} · {st.state}"

    def apply_update(self, update: Update) -> None:
        """Called by the app's follow worker (at most ~10 times a second)."""
        if update.lines:
            self.query_one(ServerLog).add_lines(update.lines)
        panel = self.query_one(ThroughputPanel)
        for ev in update.events:
            if isinstance(ev, Throughput):
                panel.add_log_sample(ev)
        if update.metrics is not None:
            panel.add_metrics_sample(update.metrics)
        self.query_one(PhaseBar).live_progress = (
            (update.progress.name, update.progress.progress) if update.progress else None
        )
        self.render_state()

    def show_gpu_memory(self, text: str) -> None:
        self.query_one("#gpu-live", Static).update(text)

    # -- actions -----------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_log_end(self) -> None:
        self.query_one(ServerLog).jump_to_end()

    def action_fix_relaunch(self) -> None:
        if not self.query_one(ErrorPanel).apply(relaunch=True):
            self.notify("No fix to apply.")

    def on_apply_fix(self, event: ApplyFix) -> None:
        self.app.apply_fix(event.changes, event.env, relaunch=event.relaunch)  # type: ignore[attr-defined]

    async def on_lora_action(self, event: LoraAction) -> None:
        panel = self.query_one(LoraPanel)
        panel.status, panel.adapters = await self.app.lora(event.action, event.name, event.path)  # type: ignore[attr-defined]


def gpu_memory_text(gpus: list[tuple[int, str, int | None, int | None]]) -> str:
    rows = [
        f"GPU {i} {name.replace('NVIDIA ', '')[:20]}: {(used or 0) / GiB:.1f}/{(total or 0) / GiB:.1f} GiB"
        for i, name, used, total in gpus
    ]
    return "\n".join(rows)
