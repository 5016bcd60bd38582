"""ConfigureScreen: GPUs, model, flags with inline help, the live VRAM estimate, checks and
the exact command. Routes widget messages to the app's state; sets widget attributes down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.command import Provider
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from tui.app import VllmTuiApp
from tui.app_state import size_classes
from tui.bindings import apply_language, bindings
from tui.core.catalog import CATALOG, t
from tui.messages import (
    ApplyFix,
    ExtraFlagChanged,
    FlagChanged,
    FlagFocused,
    GpusChosen,
    ModelSubmitted,
    PlanningGpuChanged,
)
from tui.planning import node_layout
from tui.widgets.command_preview import CommandPreview
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.flag_form import FlagForm, set_passthrough
from tui.widgets.flag_help import FlagHelp, FlagHelpPopup
from tui.widgets.flag_list import FlagList
from tui.widgets.gpu_panel import GpuPanel
from tui.widgets.model_panel import ModelPanel
from tui.widgets.title_bar import FooterSlot, TitleBar
from tui.widgets.vram_panel import VramPanel

if TYPE_CHECKING:  # the estimator and the checks load after the first frame
    from tui.core.multinode import Cluster


class ClusterFound(Message):
    """What the Ray probe found (a cluster with no backend is ignored)."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster


def _flag_jump() -> type[Provider]:
    """The palette's "jump to flag" provider, loaded when the palette opens."""
    from tui.screens.flag_jump import FlagJumpProvider

    return FlagJumpProvider


DEST_OF = {s.flag or s.dest: s.dest for s in CATALOG}


class ConfigureScreen(Screen[None]):
    CSS_PATH = "configure.tcss"
    BINDINGS = bindings("configure")
    BINDINGS_SCOPE = "configure"
    app = getters.app(VllmTuiApp)
    COMMANDS = Screen.COMMANDS | {_flag_jump}

    def compose(self) -> ComposeResult:
        app = self.app
        # The size classes (-wide, -tall…) before any widget is styled: taken on Textual's
        # first Resize, they restyled every widget and moved the columns the first frame drew.
        self.update_classes(size_classes(app), animate=False)
        yield TitleBar()
        with Vertical(id="left"):
            yield GpuPanel(id="gpus", reserve=app.gpu_rows)
            yield ModelPanel(id="model")
            yield FlagForm(app.config, app.lang, id="form")
        with Vertical(id="right"):
            yield VramPanel(id="vram")
            yield FindingsPanel(id="findings")
            yield FlagHelp(id="help")
            yield CommandPreview(id="preview")
        yield FooterSlot()  # the Footer follows the first frame (tui.widgets.title_bar)

    _resumed = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler. On the first resume every widget was styled as it
        # mounted, a moment ago (with the size classes, see compose): restyling the whole
        # screen again there cost the first frame as much as styling it.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_mount(self) -> None:
        app = self.app
        if app.lang != "en":
            apply_language(self, "configure", app.lang)
        services = getattr(app, "services", None)
        if self.port_probe is None and services is not None and not services.demo:
            from tui.adapters.launcher import port_in_use

            self.port_probe = port_in_use
        for name in (
            "config",
            "facts",
            "snapshot",
            "chosen",
            "planning_gpu",
            "planning_count",
            "planning_nodes",
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
        self._busy_port: tuple[int, int | None] | None = None
        self._port_key: tuple[object, object] | None = None
        self.set_interval(5, self._recheck_port)
        self._cluster_probed_for: str | None = None
        self._pending = False
        self._planned = False
        self._apply_inputs()
        self._layout_form()
        self.call_after_refresh(self._first_plan)

    def _refresh(self, *_: object) -> None:
        """Coalesce: a burst of changes (keys typed faster than frames) is one update."""
        if not self._pending:
            self._pending = True
            self.call_later(self._apply)

    def _apply(self) -> None:
        """Everything from the app's state: the inputs, then the plan and what it decides."""
        self._pending = False
        self._apply_inputs()
        self._apply_plan()

    def _apply_inputs(self) -> None:
        """What needs no plan: the GPUs, the model, the form and the help. The first frame
        shows these; its plan follows once that frame is on screen (`_first_plan`)."""
        app = self.app
        install = app.install
        gpus = self.query_one(GpuPanel)
        gpus.snapshot = app.snapshot
        gpus.chosen = app.chosen
        gpus.planning_gpu = app.planning_gpu
        gpus.planning_count = app.planning_count
        gpus.planning_nodes = app.planning_nodes
        gpus.lang = app.lang
        model = self.query_one(ModelPanel)
        model.model = app.config.model
        model.facts = app.facts
        model.error = app.model_error
        model.resolving = app.model_loading
        model.cached = app.cached_models
        model.lang = app.lang
        form = self.query_one(FlagForm)
        form.config = app.config
        form.lang = app.lang
        form.extra_options = app.extra_options
        form.vllm_label = f"vLLM {install.version}" if install else ""
        help_pane = self.query_one(FlagHelp)
        help_pane.lang = app.lang
        help_pane.extra_options = app.extra_options

    def _first_plan(self) -> None:
        # The inputs are on screen already. A change since then (the start-up workers report
        # once the first frame is up) has its own _apply queued, or has planned already.
        if not self._pending and not self._planned:
            self._apply_plan()
        self.call_after_refresh(self._fill_footer)

    def _fill_footer(self) -> None:
        for slot in self.query(FooterSlot):
            slot.fill()

    def _apply_plan(self) -> None:
        from tui.core.checks import screen_findings

        self._planned = True
        app = self.app
        self._watch_port()
        self._maybe_probe_cluster()
        plan = app.current_plan()
        form = self.query_one(FlagForm)
        checks = screen_findings(
            plan,
            self._input_errors,
            app.config,
            app.facts,
            form.installed_choices,
            self._busy_port,
        )
        result = replace(plan, findings=checks)
        vram = self.query_one(VramPanel)
        vram.lang = app.lang
        vram.result = result
        findings = self.query_one(FindingsPanel)
        findings.lang = app.lang
        findings.findings = result.findings
        findings.checked = True
        form.field_errors = tuple(
            (DEST_OF[f.flags[0]], f.message.get(app.lang))
            for f in plan.input_errors
            if f.flags and f.flags[0] in DEST_OF
        )
        preview = self.query_one(CommandPreview)
        preview.config = app.config
        preview.lang = app.lang
        install = app.install
        preview.version = install.version if install else None
        preview.nodes, preview.gpus_per_node = node_layout(plan)
        self.sub_title = app.header_subtitle(result)

    # -- messages up --------------------------------------------------------------------

    # -- the port, checked off the UI thread ------------------------------------------------

    port_probe: Callable[[str | None, int], bool] | None = None
    """How to test a port (None: not checked, as in --demo). Set in on_mount."""

    def _watch_port(self) -> None:
        cfg = self.app.config
        key = (cfg.get("host"), cfg.get("port"))
        if key != self._port_key:
            self._port_key = key
            self._recheck_port()

    def _recheck_port(self) -> None:
        if self._port_key is not None and self.port_probe is not None:
            host, port = self._port_key
            if isinstance(port, int):
                self._check_port(host if isinstance(host, str) else None, port)

    @work(thread=True, exclusive=True, group="port", exit_on_error=False)
    def _check_port(self, host: str | None, port: int) -> None:
        probe = self.port_probe
        if probe is None:
            return
        busy = probe(host, port)
        free = None
        if busy:
            free = next(
                (p for p in range(port + 1, min(port + 200, 65536)) if not probe(host, p)), None
            )
        self.app.call_from_thread(self._port_checked, port, busy, free)

    def _port_checked(self, port: int, busy: bool, free: int | None) -> None:
        state = (port, free) if busy else None
        if state != self._busy_port:
            self._busy_port = state
            self._refresh()

    def on_resize(self) -> None:
        self._layout_form()

    def _layout_form(self) -> None:
        rows = self.query_one(FlagList)
        rows.compact = self.size.height < 36
        rows.name_width = 30

    def on_flag_form_errors_changed(self, event: FlagForm.ErrorsChanged) -> None:
        self._input_errors = event.errors
        self._refresh()

    def jump_to_flag(self, key: str) -> None:
        """Show flag `key` (a dest or an option name) in the form and put the editor on it."""
        form = self.query_one(FlagForm)
        search = self.query_one("#flag-search", Input)
        if key.startswith("--") and search.value.strip().lower() not in key.lower():
            with search.prevent(Input.Changed):
                search.value = key
            form.refresh_rows()
        elif not key.startswith("--"):
            with search.prevent(Input.Changed):
                search.value = ""
            form.refresh_rows()
        form.focus_flag(key)

    def action_focus_search(self) -> None:
        self.query_one("#flag-search").focus()

    def action_flag_help(self) -> None:
        help_pane = self.query_one(FlagHelp)
        self.app.push_screen(FlagHelpPopup(help_pane.render_help()))

    def on_flag_changed(self, event: FlagChanged) -> None:
        self.app.set_flag(event.dest, event.value)

    def on_extra_flag_changed(self, event: ExtraFlagChanged) -> None:
        app: Any = self.app
        app.config = app.config.with_passthrough(
            set_passthrough(app.config.passthrough, event.flag, event.value)
        )

    def on_flag_focused(self, event: FlagFocused) -> None:
        help_pane = self.query_one(FlagHelp)
        help_pane.flag = event.flag
        help_pane.dest = event.dest

    def on_model_submitted(self, event: ModelSubmitted) -> None:
        self.app.load_model(event.ref)

    def on_gpus_chosen(self, event: GpusChosen) -> None:
        self.app.choose_gpus(event.keys)

    def on_planning_gpu_changed(self, event: PlanningGpuChanged) -> None:
        self.app.set_planning_gpu(event.name, event.count, event.nodes)

    def on_apply_fix(self, event: ApplyFix) -> None:
        self.app.apply_fix(event.changes, event.env)

    def action_apply_fix(self) -> None:
        if not self.query_one(FindingsPanel).apply(0):
            lang = getattr(self.app, "lang", "en")
            self.notify(t("No finding with a fix.", "修正できる項目はありません。").get(lang))

    # -- a Ray cluster this machine can reach (shown in the GPU panel as nodes x GPUs) -------

    def _maybe_probe_cluster(self) -> None:
        install = self.app.install
        services = getattr(self.app, "services", None)
        if install is None or services is None or services.demo:
            return
        if self._cluster_probed_for == install.python or not cluster_expected():
            return
        self._cluster_probed_for = install.python
        self._probe_cluster(install.python)

    @work(thread=True, exclusive=True, group="cluster", exit_on_error=False)
    def _probe_cluster(self, python: str) -> None:
        from tui.adapters.cluster import probe_cluster

        self.post_message(ClusterFound(probe_cluster(python, versions=False, timeout=30)))

    @on(ClusterFound)
    def _cluster_found(self, event: ClusterFound) -> None:
        if event.cluster.backend:
            self.query_one(GpuPanel).cluster = event.cluster


def cluster_expected() -> bool:
    """A Ray cluster is worth asking for: RAY_ADDRESS is set, or a local head left its
    address file (Ray's `/tmp/ray/ray_current_cluster`)."""
    import os

    return bool(os.environ.get("RAY_ADDRESS")) or os.path.exists("/tmp/ray/ray_current_cluster")
