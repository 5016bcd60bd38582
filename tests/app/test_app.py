"""Pilot tests of the configure side of the app (replayed vLLM logs; fake GPUs).

The run (launch, monitor, relaunch, stop, quit, attach, LoRA) is in test_run.py."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tui.adapters.replay import demo_snapshot
from tui.app import make_app
from tui.core.gpu_catalog import GiB
from tui.screens.configure import ConfigureScreen
from tui.screens.monitor import MonitorScreen
from tui.widgets.command_preview import CommandPreview
from tui.widgets.flag_form import FlagForm
from tui.widgets.server_log import ServerLog
from tui.widgets.vram_panel import VramPanel

from .app_helpers import app as build_app
from .app_helpers import launch, planning_services, services, settle


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(FlagForm).focus_flag(selector.removeprefix("#ctl-"))
    widget.value = ""
    await pilot.press(*list(text))
    await pilot.pause()


async def test_fp8_kv_cache_doubles_the_tokens_shown():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        vram = app.screen.query_one(VramPanel)
        before = vram.result.estimate.kv.tokens
        assert f"{before:,}" in str(vram.render())
        await type_into(pilot, "#ctl-kv_cache_dtype", "fp8")
        after = vram.result.estimate.kv.tokens
        assert abs(after - 2 * before) <= 2 * 16, (before, after)
        assert f"{after:,}" in str(vram.render())
        assert app.config.get("kv_cache_dtype") == "fp8"


async def test_tp3_on_a_32_head_model_shows_the_error_and_its_fix():
    app = make_app(services=services(snapshot=demo_snapshot()), model="Qwen/Qwen3-8B")  # 2 GPUs
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#ctl-tensor_parallel_size", "3")
        result = app.current_plan()
        codes = {f.code: f for f in result.findings}
        assert "tp-heads" in codes and "1, 2, 4" in codes["tp-heads"].message.en
        assert not result.estimate.fits
        app.screen.set_focus(None)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert app.config.get("tensor_parallel_size") == 2
        form = app.screen.query_one(FlagForm)
        assert form.shown_value("tensor_parallel_size") == "2"  # the editor, still on that row
        app.screen.query_one(FlagForm).focus_flag("max_model_len")
        assert form.shown_value("tensor_parallel_size") == "2"  # the row
        assert "tp-heads" not in {f.code for f in app.current_plan().findings}


async def test_typo_in_a_number_shows_a_message_and_keeps_the_config():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#ctl-max_model_len", "32x")
        form = app.screen.query_one(FlagForm)
        assert "max_model_len" in form.drafts
        assert "whole number" in form.help_line("max_model_len")
        assert app.config.get("max_model_len") == 32  # the last valid value typed ("32"), not "32x"
        await type_into(pilot, "#ctl-max_model_len", "8k")
        assert app.config.get("max_model_len") == 8000
        assert "max_model_len" not in form.drafts


async def test_a_secret_typed_in_never_appears_in_preview_log_or_screenshot():
    secret = "sk-TOPSECRET-4242"
    lines = [
        "INFO 01-01 00:00:00 [x.py:1] printing the key by mistake: " + secret,
        "INFO:     Application startup complete.",
    ]
    app = make_app(services=services(lines=lines), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await type_into(pilot, "#ctl-api_key", secret)
        assert app.config.get("api_key") == secret
        preview = app.screen.query_one(CommandPreview)
        assert secret not in str(preview.render())
        assert secret not in app.command_text()
        assert secret not in app.export_screenshot()
        await launch(app, pilot)
        assert isinstance(app.screen, MonitorScreen)
        log = app.screen.query_one(ServerLog)
        assert any("****" in text for _, text in log.kept)
        assert not any(secret in text for _, text in log.kept)
        assert secret not in app.export_screenshot()


async def test_planning_mode_without_gpu_or_vllm():
    app = make_app(services=planning_services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ConfigureScreen)
        result = app.current_plan()
        assert result.planning and result.estimate is not None
        assert result.estimate.total_bytes == pytest.approx(79.22 * GiB, rel=1e-3)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(
            app.screen, ConfigureScreen
        )  # no vLLM: launching is refused with a message


async def test_language_toggle_switches_help_to_japanese():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("f9")
        await pilot.pause()
        assert app.lang == "ja"
        assert "割合" in app.screen.query_one(FlagForm).help_line("gpu_memory_utilization")


async def test_import_a_pasted_command():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("f2")
        await pilot.pause()
        from textual.widgets import TextArea

        app.screen.query_one(
            TextArea
        ).text = "vllm serve unsloth/Llama-3.3-70B-Instruct --quantization fp8 --kv-cache-dtype fp8 --gpu-memory-utilization 0.97 --max-model-len 65536"
        await pilot.click("#import")
        await settle(app, pilot)
        assert app.config.model == "unsloth/Llama-3.3-70B-Instruct"
        assert app.config.get("max_model_len") == 65536
        assert app.facts is not None and app.facts.num_layers == 80


async def test_export_writes_files_without_secrets(tmp_path):
    from textual.widgets import Select

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.update({"api_key": "sk-never-on-disk", "max_model_len": 8192})
        app.screen.set_focus(None)
        await pilot.press("f3")
        await pilot.pause()
        app.screen.query_one("#export-format", Select).value = "yaml"
        await pilot.pause()
        target = tmp_path / "serve.yaml"
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#write")
        await pilot.pause()
    text = target.read_text()
    assert "max-model-len: 8192" in text and "sk-never" not in text


async def test_profiles_save_and_load_through_the_ui():
    from tui.adapters import profiles

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.config = app.config.update({"max_model_len": 4096, "hf_token": "hf_secret"})
        app.screen.set_focus(None)
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#profile-name", Input).value = "small ctx"
        await pilot.click("#save")
        await pilot.pause()
        assert profiles.list_profiles() == ["small ctx"]
        app.config = app.config.unset("max_model_len")
        await pilot.press("f4")
        await pilot.pause()
        await pilot.click("#load")
        await settle(app, pilot)
        assert app.config.get("max_model_len") == 4096 and app.config.get("hf_token") is None
