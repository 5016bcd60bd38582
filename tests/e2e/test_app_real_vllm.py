"""The app against the real vLLM CPU build: configure, F5, ready, throughput, quit -> stop."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tui.adapters import runs
from tui.adapters.launcher import free_port
from tui.adapters.services import Services
from tui.app import make_app
from tui.screens.modals import QuitModal
from tui.screens.monitor import MonitorScreen
from tui.widgets.throughput_panel import ThroughputPanel

pytestmark = [pytest.mark.e2e, pytest.mark.vllm]


async def test_app_launches_real_vllm_shows_throughput_and_stops_on_quit(vllm_env, tiny_model):
    services = Services.real(vllm_env)
    app = make_app(services=services, model=str(tiny_model))
    port = free_port("127.0.0.1", 18800)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.install is not None and app.install.device == "cpu"
        assert app.facts is not None and app.facts.num_layers == 2
        app.config = app.config.update(
            {
                "max_model_len": 512,
                "gpu_memory_utilization": 0.10,
                "port": port,
                "served_model_name": ["tiny"],
            }
        )
        await pilot.pause()
        app.screen.set_focus(None)
        await pilot.press("f5")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and app.run_state.state not in ("ready", "failed"):
            await pilot.pause(0.5)
        assert app.run_state.state == "ready", app.run_state.root_cause
        assert isinstance(app.screen, MonitorScreen)
        run = app.active_run
        async with httpx.AsyncClient(timeout=60) as client:
            body = {"model": "tiny", "prompt": "hello world", "max_tokens": 64}
            await asyncio.gather(
                *(client.post(run.url + "/v1/completions", json=body) for _ in range(6))
            )
        panel = app.screen.query_one(ThroughputPanel)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not any(
            v > 0 for v in panel.series["gen_tps"].values
        ):
            await pilot.pause(0.5)
        assert any(v > 0 for v in panel.series["gen_tps"].values), (
            "a stats line or /metrics sample with generation throughput"
        )
        assert app.run_state.memory_dict.get("kv_cache_tokens", 0) > 0
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitModal)
        await pilot.press("s")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run.alive():
            await pilot.pause(0.5)
    assert not run.alive()
    assert runs.group_pids(run.pgid) == []
