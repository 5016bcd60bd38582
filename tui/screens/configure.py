"""ConfigureScreen: GPUs, model, flags with inline help, the live VRAM estimate, checks and
the exact command. Routes widget messages to the app's state; sets widget attributes down."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header

from tui.core.catalog import CATALOG
from tui.core.checks import screen_findings
from tui.messages import (
    ApplyFix,
    ExtraFlagChanged,
    FlagChanged,
    FlagFocused,
    GpusChosen,
    ModelSubmitted,
    PlanningGpuChanged,
)
from tui.widgets.command_preview import CommandPreview
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.flag_form import FlagForm, set_passthrough
from tui.widgets.flag_help import FlagHelp, FlagHelpPopup
from tui.widgets.flag_list import FlagList
from tui.widgets.gpu_panel import GpuPanel
from tui.widgets.model_panel import ModelPanel
from tui.widgets.vram_panel import VramPanel

DEST_OF = {s.flag or s.dest: s.dest for s in CATALOG}


class ConfigureScreen(Screen):
    CSS_PATH = "configure.tcss"
    BINDINGS = [
        Binding("f5", "app.launch", "Launch", priority=True),
        Binding("f2", "app.import_config", "Import"),
        Binding("f3", "app.export", "Export"),
        Binding("f4", "app.profiles", "Profiles"),
        Binding("f6", "app.runs", "Runs"),
        Binding("f7", "app.why", "Why?"),
        Binding("f9", "app.toggle_lang", "日本語/EN"),
        Binding("ctrl+f", "apply_fix", "Apply fix"),
        Binding("ctrl+y", "app.copy_command", "Copy", show=False),
        Binding("slash", "focus_search", "Search", show=False),
        Binding("f10", "flag_help", "Flag help", show=False),
    ]

    def compose(self) -> ComposeResult:
        app = self.app
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield GpuPanel(id="gpus")
                yield ModelPanel(id="model")
                yield FlagForm(app.config, app.lang, id="form")  # type: ignore[attr-defined]
            with Vertical(id="right"):
                yield VramPanel(id="vram")
                yield FindingsPanel(id="findings")
                yield FlagHelp(id="help")
                yield CommandPreview(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        app = self.app
        for name in (
            "config",
            "facts",
            "snapshot",
            "chosen",
            "planning_gpu",
            "planning_count",
            "lang",
            "install",
            "known_options",
            "model_error",
            "model_loading",
            "extra_options",
            "cached_models",
        ):
            self.watch(app, name, self._refresh, init=False)
        self._input_errors: dict[str, str] = {}
        self._pending = False
        self._apply()
        self._layout_form()

    def _refresh(self, *_: object) -> None:
        """Coalesce: a burst of changes (keys typed faster than frames) is one update."""
        if not self._pending:
            self._pending = True
            self.call_later(self._apply)

    def _apply(self) -> None:
        self._pending = False
        app = self.app
        plan = app.current_plan()  # type: ignore[attr-defined]
        form = self.query_one(FlagForm)
        checks = screen_findings(
            plan,
            self._input_errors,
            app.config,  # type: ignore[attr-defined]
            app.facts,  # type: ignore[attr-defined]
            form.installed_choices,
        )
        result = replace(plan, findings=checks)
        self.query_one(VramPanel).result = result
        self.query_one(VramPanel).lang = app.lang  # type: ignore[attr-defined]
        findings = self.query_one(FindingsPanel)
        findings.lang = app.lang  # type: ignore[attr-defined]
        findings.findings = result.findings
        form_errors = tuple(
            (DEST_OF[f.flags[0]], f.message.get(app.lang))  # type: ignore[attr-defined]
            for f in plan.input_errors
            if f.flags and f.flags[0] in DEST_OF
        )
        preview = self.query_one(CommandPreview)
        preview.config = app.config  # type: ignore[attr-defined]
        preview.lang = app.lang  # type: ignore[attr-defined]
        install = app.install  # type: ignore[attr-defined]
        preview.version = install.version if install else None
        gpus = self.query_one(GpuPanel)
        gpus.snapshot = app.snapshot  # type: ignore[attr-defined]
        gpus.chosen = app.chosen  # type: ignore[attr-defined]
        gpus.planning_gpu = app.planning_gpu  # type: ignore[attr-defined]
        gpus.planning_count = app.planning_count  # type: ignore[attr-defined]
        gpus.lang = app.lang  # type: ignore[attr-defined]
        model = self.query_one(ModelPanel)
        model.model = app.config.model  # type: ignore[attr-defined]
        model.facts = app.facts  # type: ignore[attr-defined]
        model.error = app.model_error  # type: ignore[attr-defined]
        model.loading = app.model_loading  # type: ignore[attr-defined]
        model.cached = app.cached_models  # type: ignore[attr-defined]
        model.lang = app.lang  # type: ignore[attr-defined]
        form = self.query_one(FlagForm)
        form.config = app.config  # type: ignore[attr-defined]
        form.lang = app.lang  # type: ignore[attr-defined]
        form.extra_options = app.extra_options  # type: ignore[attr-defined]
        form.vllm_label = f"vLLM {install.version}" if install else ""
        form.field_errors = form_errors
        help_pane = self.query_one(FlagHelp)
        help_pane.lang = app.lang  # type: ignore[attr-defined]
        help_pane.extra_options = app.extra_options  # type: ignore[attr-defined]
        self.sub_title = app.header_subtitle(result)  # type: ignore[attr-defined]

    # -- messages up --------------------------------------------------------------------

    def on_resize(self) -> None:
        self._layout_form()

    def _layout_form(self) -> None:
        rows = self.query_one(FlagList)
        rows.compact = self.size.height < 36
        rows.name_width = 30 if self.size.width >= 120 else 22

    def on_flag_form_errors_changed(self, event: FlagForm.ErrorsChanged) -> None:
        self._input_errors = event.errors
        self._refresh()

    def action_focus_search(self) -> None:
        self.query_one("#flag-search").focus()

    def action_flag_help(self) -> None:
        help_pane = self.query_one(FlagHelp)
        self.app.push_screen(FlagHelpPopup(help_pane.render_help()))

    def on_flag_changed(self, event: FlagChanged) -> None:
        self.app.set_flag(event.dest, event.value)  # type: ignore[attr-defined]

    def on_extra_flag_changed(self, event: ExtraFlagChanged) -> None:
        app = self.app
        app.config = app.config.with_passthrough(
            set_passthrough(app.config.passthrough, event.flag, event.value)
        )  # type: ignore[attr-defined]

    def on_flag_focused(self, event: FlagFocused) -> None:
        help_pane = self.query_one(FlagHelp)
        help_pane.flag = event.flag
        help_pane.dest = event.dest

    def on_model_submitted(self, event: ModelSubmitted) -> None:
        self.app.load_model(event.ref)  # type: ignore[attr-defined]

    def on_gpus_chosen(self, event: GpusChosen) -> None:
        self.app.choose_gpus(event.keys)  # type: ignore[attr-defined]

    def on_planning_gpu_changed(self, event: PlanningGpuChanged) -> None:
        self.app.set_planning_gpu(event.name, event.count)  # type: ignore[attr-defined]

    def on_apply_fix(self, event: ApplyFix) -> None:
        self.app.apply_fix(event.changes, event.env)  # type: ignore[attr-defined]

    def action_apply_fix(self) -> None:
        if not self.query_one(FindingsPanel).apply(0):
            self.notify(
                "No finding with a fix."
                if self.app.lang == "en"
                else "修正できる項目はありません。"
            )  # type: ignore[attr-defined]
