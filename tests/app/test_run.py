"""Pilot tests of the run: launch, monitor, relaunch, stop, quit, attach, worker failures.

Replayed vLLM logs and fake GPUs (tests/app/app_helpers.py); the real server is in tests/e2e.
"""

from __future__ import annotations

from textual.widgets import Input, Sparkline, TabbedContent

from tui.app import make_app
from tui.screens.modals import ConfirmModal, QuitModal
from tui.screens.monitor import MonitorScreen
from tui.widgets.error_panel import ErrorPanel
from tui.widgets.server_log import ServerLog
from tui.widgets.throughput_panel import ThroughputPanel

from .app_helpers import app as build_app
from .app_helpers import launch, services, settle

FAIL_LINES = [
    "INFO 01-01 00:00:00 [x.py:1] non-default args: {'max_model_len': 200000}",
    "Value error, User-specified max_model_len (200000) is greater than the derived max_model_len (max_position_embeddings=40960.0 or model_max_length=None in model's config.json).",
]


async def wait_for(pilot, condition, steps: int = 60) -> None:
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.05)


async def test_launch_reaches_ready_and_shows_throughput():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await wait_for(
            pilot, lambda: app.run_state.state == "ready" and app.session.throughput_history
        )
        assert isinstance(app.screen, MonitorScreen)
        assert app.run_state.state == "ready"
        panel = app.screen.query_one(ThroughputPanel)
        assert panel.series["gen_tps"].values and panel.series["gen_tps"].peak > 0
        assert app.run_state.memory_dict["kv_cache_tokens"] > 0


async def test_quit_asks_and_stops_the_server():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        run = app.active_run
        assert run is not None and run.alive()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitModal)
        await pilot.press("s")
        await wait_for(pilot, lambda: not run.alive(), 40)
        assert not run.alive()
    assert app.return_code == 0


async def test_quit_can_leave_the_server_running():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        run = app.active_run
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
    assert run.alive()  # detached: still running after the app exits


async def test_ctrl_x_asks_before_stopping():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        run = app.active_run
        app.screen.set_focus(None)
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert run.alive() and isinstance(app.screen, MonitorScreen)
        await pilot.press("ctrl+x")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: app.run_state.state == "stopped")
        assert not run.alive()
        assert app.run_state.state == "stopped"


async def test_f8_relaunch_switches_to_the_new_run_at_once_and_works_twice():
    svc = services(lines=FAIL_LINES)
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.set("max_model_len", 32768)
        await launch(app, pilot)
        assert app.run_state.state == "failed"
        assert app.run_state.root_cause.kind == "max_len_above_derived"
        first_screen = app.screen
        first_gen = app.session.gen
        await pilot.press("f8")
        await pilot.pause()
        # At once: a fresh monitor for the new run, not the old FAILED state.
        assert isinstance(app.screen, MonitorScreen) and app.screen is not first_screen
        assert app.session.gen == first_gen + 1
        assert app.config.get("max_model_len") == 40960
        assert app.session.estimate is not None
        assert app.session.estimate.max_model_len == 40960  # the prediction is the new config's
        await wait_for(pilot, lambda: len(svc.launcher.runs) == 2)
        assert len(svc.launcher.runs) == 2
        await wait_for(pilot, lambda: app.run_state.state == "failed")
        log = app.screen.query_one(ServerLog)
        assert len(log.kept) == len(FAIL_LINES)  # the new run's log only, each line once
        assert app.active_run is svc.launcher.runs[1]
        # The same replayed failure again: a second F8 applies the fix (already applied) and
        # relaunches once more.
        await pilot.press("f8")
        await wait_for(pilot, lambda: len(svc.launcher.runs) == 3)
        assert len(svc.launcher.runs) == 3
        assert not svc.launcher.runs[0].alive() or svc.launcher.runs[0].stopped


async def test_relaunch_log_title_points_at_the_new_run(tmp_path):
    svc = services(lines=FAIL_LINES)
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    original = svc.launcher.launch

    def launch_with_path(cfg, install):
        run = original(cfg, install)
        run.log_path = tmp_path / run.id / "server.log"
        return run

    svc.launcher.launch = launch_with_path
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        assert "demo-1" in app.screen.query_one(ServerLog).border_title
        await pilot.press("f8")
        await wait_for(pilot, lambda: len(svc.launcher.runs) == 2 and app.active_run is not None)
        await pilot.pause(0.1)
        title = app.screen.query_one(ServerLog).border_title
        assert "demo-2" in title and "demo-1" not in title


async def test_a_warning_does_not_fail_the_run_and_the_real_cause_shows_later():
    lines = [
        "(APIServer pid=1) WARNING 01-01 00:00:00 [model.py:2660] User-specified max_model_len (5000000) is greater than the derived max_model_len (max_position_embeddings=40960 or model_max_length=None in model's config.json). VLLM_ALLOW_LONG_MAX_MODEL_LEN must be used with extreme caution. If the model uses absolute position encoding, positions exceeding derived_max_model_len will cause a CUDA array out-of-bounds error.",
        "(EngineCore pid=2) INFO 01-01 00:00:05 [core.py:1] still starting",
    ]
    later = [
        "(EngineCore pid=2) ERROR 01-01 00:01:05 [core.py:708] EngineCore failed to start.",
        "(EngineCore pid=2) ERROR 01-01 00:01:05 [core.py:708] ValueError: To serve at least one request with the model's max seq len (5000000), (680.00 GiB KV cache is needed, which is larger than the available KV cache memory (8.12 GiB). Based on the available memory, the estimated maximum model length is 59120. Try increasing `gpu_memory_utilization`",
    ]
    svc = services(lines=lines, per_step=1)
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot, until=("never",), steps=20)
        assert isinstance(app.screen, MonitorScreen)
        assert app.run_state.state == "starting"  # a warning: vLLM goes on
        panel = app.screen.query_one(ErrorPanel)
        assert panel.has_class("-shown") and panel.has_class("-warning")
        assert panel.diagnosis.kind == "max_len_above_derived"
        svc.launcher.runs[0].lines.extend(later)  # the real failure, a minute later
        await wait_for(pilot, lambda: len(app.session.log_history) == 4)
        await pilot.pause()
        assert app.run_state.state == "failed"
        assert not panel.has_class("-warning")
        assert panel.diagnosis.kind != "max_len_above_derived" and panel.diagnosis.fatal
        assert "59120" in (panel.diagnosis.suggestion or "")


async def test_a_worker_exception_is_shown_and_the_app_keeps_running():
    svc = services()

    def broken_probe():
        raise RuntimeError("NVML exploded")

    svc.probe = broken_probe
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        await pilot.pause()
        assert app.is_running
        shown = [n.message for n in app._notifications]
        assert any("NVML exploded" in m for m in shown), shown
        # Still usable: the help opens.
        app.screen.set_focus(None)
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpModal"


async def test_all_zero_sparklines_draw_empty_and_disable_log_stats_says_why():
    lines = [
        "INFO 01-01 00:00:00 [x.py:1] Engine 000: Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 0.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%, Prefix cache hit rate: 0.0%",
        "INFO:     Application startup complete.",
    ]
    app = make_app(services=services(lines=lines), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.set("disable_log_stats", True)
        await launch(app, pilot)
        panel = app.screen.query_one(ThroughputPanel)
        assert list(panel.series["gen_tps"].values) == [0.0]
        spark = panel.query_one("#spark-gen_tps", Sparkline)
        assert spark.data == []
        assert spark.has_class("-empty") and spark.styles.visibility == "hidden"
        assert not spark.render_line(0).text.strip()  # not even a baseline
        notice = str(panel.query_one("#notice").render())
        assert "/metrics" in notice and "0.32" in notice


async def test_monitor_at_80x24_is_tabs_with_throughput_reachable():
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        tabs = app.screen.query_one(TabbedContent)
        tabs.active = "tab-throughput"
        await pilot.pause()
        panel = app.screen.query_one(ThroughputPanel)
        assert panel.region.width > 40 and panel.region.height > 5
        assert panel.series["gen_tps"].values


async def test_long_log_lines_can_be_wrapped_to_read_them_whole():
    long = "INFO 01-01 00:00:00 [x.py:1] " + "word " * 80 + "THE-END"
    app = make_app(services=services(lines=[long]), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot, until=("never",), steps=10)
        app.screen.set_focus(None)
        await pilot.press("w")
        await pilot.pause()
        log = app.screen.query_one(ServerLog)
        assert log.wrap
        assert "THE-END" in app.export_screenshot()


async def test_attach_then_escape_shows_the_running_servers_flags():
    svc = services()
    first = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with first.run_test(size=(160, 48)) as pilot:
        await settle(first, pilot)
        first.config = first.config.update({"max_model_len": 8192, "enforce_eager": True})
        await launch(first, pilot)
        run = first.active_run
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
    run.position = 0
    run.info = {
        "model": "Qwen/Qwen3-8B",
        "config": {"max_model_len": 8192, "enforce_eager": True, "api_key": "****"},
        "vllm_python": "/nonexistent/python",
    }
    second = make_app(services=svc, model="meta-llama/Llama-3.1-8B-Instruct", attach=run.id)
    async with second.run_test(size=(160, 48)) as pilot:
        await settle(second, pilot)
        await wait_for(pilot, lambda: second.run_state.state == "ready")
        assert isinstance(second.screen, MonitorScreen)
        assert second.run_state.memory_dict["kv_cache_tokens"] > 0
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert second.config.model == "Qwen/Qwen3-8B"
        assert second.config.get("max_model_len") == 8192
        assert second.config.get("api_key") is None  # never stored, never invented


async def test_lora_hot_swap_panel_loads_and_unloads_adapters():
    from tui.widgets.lora_panel import LoraPanel

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.update(
            {"enable_lora": True, "max_loras": 4, "allow_runtime_lora_updating": True}
        )
        assert app.command_text().startswith("export VLLM_ALLOW_RUNTIME_LORA_UPDATING=True")
        await launch(app, pilot)
        panel = app.screen.query_one(LoraPanel)
        panel.query_one("#lora-name", Input).value = "sql"
        panel.query_one("#lora-path", Input).value = "/adapters/sql"
        await pilot.click("#lora-load")
        await wait_for(pilot, lambda: panel.adapters)
        assert panel.adapters == (("sql", "/adapters/sql"),)
        assert "loaded sql" in panel.status
        await pilot.click("#lora-unload")
        await wait_for(pilot, lambda: not panel.adapters)
        assert panel.adapters == ()


async def test_lora_modules_given_at_launch_show_as_loaded(tmp_path):
    from tui.widgets.lora_panel import LoraPanel

    adapter = tmp_path / "sql"  # the pre-launch check refuses a local path that does not exist
    adapter.mkdir()
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.update({"enable_lora": True, "lora_modules": [f"sql={adapter}"]})
        await launch(app, pilot)
        panel = app.screen.query_one(LoraPanel)
        assert panel.adapters == (("sql", str(adapter)),)


async def test_help_palette_and_footer_come_from_one_declaration():
    from textual.widgets import DataTable

    from tui.bindings import KEYS

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("f1")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        for key in KEYS:
            assert (key.shown_key, key.tooltip.en) in rows
        await pilot.press("escape")
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Launch", "Export", "Runs"} <= commands
        await pilot.press("f9")
        await pilot.pause()
        screenshot = app.export_screenshot()
        assert "起動" in screenshot  # the footer's F5 label in Japanese


async def test_export_command_ends_with_a_newline(tmp_path):
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("f3")
        await pilot.pause()
        target = tmp_path / "command.txt"
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#write")
        await pilot.pause()
    assert target.read_text().endswith("\n")


async def test_vllm_given_with_dash_dash_vllm_is_remembered_for_the_next_start():
    from tui.adapters.settings import load_settings

    svc = services()
    svc.demo = False  # remembering is skipped in the demo only
    app = make_app(services=svc, model="Qwen/Qwen3-8B", vllm="/opt/vllm/bin/python")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
    assert load_settings().vllm_path == "/opt/vllm/bin/python"


def test_attached_runs_flags_come_from_run_json():
    from tui.run_actions import config_of_run

    cfg = config_of_run(
        {
            "model": "Qwen/Qwen3-8B",
            "config": {"max_model_len": 8192, "api_key": "****", "nonsense": 1},
            "cuda_visible_devices": "1",
        }
    )
    assert cfg is not None
    assert cfg.get("max_model_len") == 8192 and cfg.get("api_key") is None
    assert cfg.cuda_visible_devices == "1"
    assert config_of_run({"model": "x"}) is None
