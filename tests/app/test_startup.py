"""Start-up in stages: importing the app loads nothing the first frame does not need, and the
start-up work (NVML, the HF cache, the vLLM, the model's facts) runs after that frame."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tui.app import VllmTuiApp, make_app

from .app_helpers import services, settle

DEFERRED = (
    "httpx",
    "psutil",
    "yaml",
    "pynvml",
    "huggingface_hub",
    "tui.adapters.watcher",
    "tui.adapters.runs",
    "tui.adapters.gpus",
    "tui.adapters.launcher",
    "tui.adapters.model_source",
    "tui.adapters.vllm_env",
    "tui.screens.monitor",
    "tui.screens.modals",
    "tui.core.logparse",  # the log parser and the diagnoser load where a log is read
    "tui.core.diagnose",
    "tui.core.logparse_events",  # ...and the events, with the reducer (an empty RunState needs none)
    "tui.core.reducer",
    "tui.adapters.replay",  # the demo's twins: at the first probe or launch
    # the estimator, the checks and what only the first plan or a keystroke needs
    "tui.core.plan",
    "tui.core.estimate",
    "tui.core.checks",
    "tui.core.validate",
    "tui.core.multinode",
    "tui.core.arch_catalog",
    "tui.core.model_facts",
    "tui.core.gpu_catalog",
    # widgets the first frame does not show: the key bar follows it, the GPU list the probe
    "textual.widgets._footer",
    "textual.widgets._header",
    "textual.widgets._selection_list",
    "tui.core.weights",
    "tui.core.commands",
    "tui.screens.flag_jump",
)


def test_importing_the_app_its_first_screen_and_its_services_loads_no_adapter_nor_estimator():
    code = (
        "import json, sys\n"
        "from tui.app import make_app\n"
        "from tui.adapters.services import Services\n"
        "import tui.screens.configure\n"
        "Services.demo_services(); Services.real()\n"
        f"print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


FIRST_FRAME = """
import asyncio, json, sys
import textual._compositor as compositor
from tui.adapters.services import Services
from tui.app import VllmTuiApp, make_app

loaded = []
render = compositor.Compositor.render_update


def first_render(self, *args, **kwargs):
    if not loaded:
        loaded.append([m for m in DEFERRED if m in sys.modules])
    return render(self, *args, **kwargs)


compositor.Compositor.render_update = first_render


async def main():
    app = make_app(services=Services.demo_services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()


asyncio.run(main())
print(json.dumps(loaded[0]))
"""


def test_running_the_app_to_its_first_frame_loads_none_of_it(tmp_path):
    """Not only the imports: what runs before the first frame is drawn (mounting, the model
    field being given the app's model, the first focus) loads none of the deferred modules."""
    code = f"DEFERRED = {DEFERRED!r}\n" + FIRST_FRAME
    env = {**os.environ, "VLLM_TUI_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(out.stdout.splitlines()[-1]) == []


async def test_start_up_work_waits_for_the_first_frame():
    svc = services()
    probe, resolve = svc.probe, svc.resolve_model
    seen: list[tuple[str, bool]] = []

    def probed():
        seen.append(("probe", app.first_frame.is_set()))
        return probe()

    def resolved(ref: str):
        seen.append(("model", app.first_frame.is_set()))
        return resolve(ref)

    svc.probe, svc.resolve_model = probed, resolved
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert app.facts is not None and app.snapshot is not None
    assert sorted(seen) == [("model", True), ("probe", True)]


async def test_the_first_frame_is_drawn_before_the_first_plan(monkeypatch):
    """The estimator runs once the first frame is on screen; until then the panels say they
    are estimating and checking (never "no problems found" for checks that have not run)."""
    import textual._compositor as compositor

    from tui import planning
    from tui.widgets.findings_panel import FindingsPanel
    from tui.widgets.vram_panel import VramPanel

    order: list[str] = []
    panels: list[tuple[str, str]] = []
    render, current_plan = compositor.Compositor.render_update, planning.current_plan

    def rendered(self, *args, **kwargs):
        if "render" not in order:
            screen = app.screen
            vram = screen.query_one(VramPanel)
            checks = screen.query_one(FindingsPanel)
            panels.append((str(vram.render()), str(checks.get_option_at_index(0).prompt)))
        order.append("render")
        return render(self, *args, **kwargs)

    def planned(the_app):
        order.append("plan")
        return current_plan(the_app)

    monkeypatch.setattr(compositor.Compositor, "render_update", rendered)
    monkeypatch.setattr(planning, "current_plan", planned)
    app = make_app(services=services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert "KV tokens" in str(app.screen.query_one(VramPanel).render())
    assert order.index("render") < order.index("plan")
    assert panels[0] == ("estimating…", "checking…")


def test_the_app_command_pauses_the_collector_only_until_it_is_done(monkeypatch):
    """`vllm-tui` pauses the cyclic GC for start-up (tui.gc_pause); whatever happens (here a
    bad argument: exit 2 before any frame) collection is on again afterwards."""
    import gc

    from tui import gc_pause
    from tui.cli import main

    assert gc.isenabled()
    seen = []
    monkeypatch.setattr("tui.cli.app_cmd.main", lambda args: seen.append(gc.isenabled()) or 2)
    assert main(["--demo"]) == 2
    assert seen == [False] and gc.isenabled() and not gc_pause.paused()


async def test_the_first_frame_resumes_a_paused_collector():
    import gc

    from tui import gc_pause

    gc_pause.pause()
    try:
        assert not gc.isenabled()
        app = make_app(services=services(), model="Qwen/Qwen3-8B")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert gc.isenabled() and not gc_pause.paused()
    finally:
        gc_pause.resume()
        gc.enable()


def test_a_collector_someone_else_disabled_stays_disabled():
    import gc

    from tui import gc_pause

    gc.disable()
    try:
        gc_pause.pause()
        gc_pause.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_model_suggestions_load_the_catalog_on_the_first_keystroke():
    from tui.widgets.model_panel import ModelSuggester

    suggester = ModelSuggester(("qwen/my-local-finetune",))
    assert suggester._ids is None  # nothing read at start-up
    assert await suggester.get_suggestion("qwen/qwen3-8") == "Qwen/Qwen3-8B"
    assert await suggester.get_suggestion("qwen/") == "qwen/my-local-finetune"  # the cache first
    assert await suggester.get_suggestion("no-such-org/") is None


async def test_resolving_a_model_says_so_in_the_panel_without_covering_it():
    """While the model's facts are looked up the panel says "resolving…" under the field the
    user may be typing in. (Its reactive was once named `loading`, which is Textual's own:
    that mounted a LoadingIndicator over the whole panel, field included, on every start.)"""
    from textual.widgets import Input, LoadingIndicator, Static

    from tui.widgets.model_panel import ModelPanel

    app = make_app(services=services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        panel = app.screen.query_one(ModelPanel)
        app.model_loading = True
        await pilot.pause()
        assert "resolving…" in str(panel.query_one("#facts", Static).render())
        assert not panel.query(LoadingIndicator)
        assert panel.query_one(Input).region.height == 1


async def test_the_first_frame_has_its_final_columns_and_styles_each_panel_once(monkeypatch):
    """The size classes (-wide, -tall…) are the screen's before its widgets are styled, so
    the first frame has the columns it keeps (they used to move when Textual's first Resize
    added the classes), and the first resume does not restyle every widget again."""
    import collections

    import textual._compositor as compositor
    import textual.css.stylesheet as stylesheet

    from tui.widgets.command_preview import CommandPreview
    from tui.widgets.flag_list import FlagList
    from tui.widgets.gpu_panel import GpuPanel
    from tui.widgets.vram_panel import VramPanel

    styled: collections.Counter[int] = collections.Counter()
    first: list[tuple[int, int, dict[int, int]]] = []
    apply, render = stylesheet.Stylesheet.apply, compositor.Compositor.render_update

    def applied(self, node, *args, **kwargs):
        if not first:
            styled[id(node)] += 1
        return apply(self, node, *args, **kwargs)

    def rendered(self, *args, **kwargs):
        if not first:
            screen = app.screen
            first.append(
                (
                    screen.query_one("#left").region.width,
                    screen.query_one("#right").region.width,
                    dict(styled),
                )
            )
        return render(self, *args, **kwargs)

    monkeypatch.setattr(stylesheet.Stylesheet, "apply", applied)
    monkeypatch.setattr(compositor.Compositor, "render_update", rendered)
    app = make_app(services=services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        left, right, counts = first[0]
        assert (left, right) == (screen.query_one("#left").region.width, 72)
        assert screen.has_class("-wide") and screen.has_class("-tall")
        for kind in (GpuPanel, VramPanel, FlagList, CommandPreview):
            assert counts[id(screen.query_one(kind))] == 1, kind.__name__


async def test_the_first_frame_holds_the_gpu_rows_of_the_last_start(monkeypatch):
    """NVML answers after the first frame. The GPU panel holds the rows it took at the last
    start (settings.json), so the model and the form under it stay where the first frame drew
    them; once the probe's rows are on screen they are remembered for the next start."""
    import textual._compositor as compositor

    from tui.adapters.replay import demo_snapshot
    from tui.adapters.settings import load_settings
    from tui.widgets.model_panel import ModelPanel

    def start() -> VllmTuiApp:
        svc = services(snapshot=demo_snapshot())  # two GPUs: two rows in the list
        svc.demo = False  # a real start remembers (demo mode writes no settings)
        return make_app(services=svc, model="Qwen/Qwen3-8B")

    first: list[int] = []
    render = compositor.Compositor.render_update

    def rendered(self, *args, **kwargs):
        if not first:
            first.append(app.screen.query_one(ModelPanel).region.y)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(compositor.Compositor, "render_update", rendered)
    for attempt in ("no rows known yet", "the rows of the last start"):
        first.clear()
        app = start()
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            final = app.screen.query_one(ModelPanel).region.y
            if attempt == "no rows known yet":
                assert first[0] == final - 1  # one row held, two GPUs shown
            else:
                assert first[0] == final
        assert load_settings().gpu_rows == 2
