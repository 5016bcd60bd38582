"""LoRA hot-swap on the real vLLM CPU build: an adapter generated for the tiny model loads
through POST /v1/load_lora_adapter, appears in /v1/models, answers completions under its
name and unloads, from the monitor's panel (Pilot) and from `vllm-tui lora`; the refusals
(missing path, rank above --max-lora-rank, more adapters than --max-loras, a server without
runtime updating) are each one clear sentence.

One server at a time (run under `flock /tmp/heavy.lock`); small memory (10% of host RAM).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from textual.widgets import Input

from tui.adapters import runs
from tui.adapters.launcher import free_port
from tui.adapters.services import Services
from tui.app import make_app
from tui.screens.monitor import MonitorScreen
from tui.widgets.lora_panel import LoraPanel

from .conftest import cli

pytestmark = [pytest.mark.e2e, pytest.mark.vllm]

SCRIPT = Path(__file__).parent / "make_lora_adapter.py"


def make_adapter(vllm_python: str, out: Path, rank: int, seed: int = 0) -> Path:
    subprocess.run(
        [vllm_python, str(SCRIPT), str(out), str(rank), str(seed)], check=True, timeout=300
    )
    return out


def served(url: str) -> set[str]:
    reply = httpx.get(url + "/v1/models", timeout=30)
    reply.raise_for_status()
    return {m["id"] for m in reply.json()["data"]}


async def until(pilot, condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        await pilot.pause(0.5)


async def panel_action(pilot, panel: LoraPanel, button: str, name: str, path: str = "") -> str:
    panel.query_one("#lora-name", Input).value = name
    panel.query_one("#lora-path", Input).value = path
    panel.status = ""
    panel.query_one(f"#{button}").press()
    await until(pilot, lambda: bool(panel.status), 120)
    return panel.status


async def test_lora_hot_swap_from_the_panel_and_the_cli(vllm_env, tiny_model, tmp_path):
    sql = make_adapter(vllm_env, tmp_path / "sql", 8, seed=1)
    chat = make_adapter(vllm_env, tmp_path / "chat", 8, seed=2)
    extra = make_adapter(vllm_env, tmp_path / "extra", 8, seed=3)
    big = make_adapter(vllm_env, tmp_path / "big", 16, seed=4)
    port = free_port("127.0.0.1", 18900)
    app = make_app(services=Services.real(vllm_env), model=str(tiny_model))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.install is not None and app.facts is not None, 120)
        app.config = app.config.update(
            {
                "max_model_len": 256,
                "gpu_memory_utilization": 0.10,
                "port": port,
                "served_model_name": ["tiny"],
                "enable_lora": True,
                "max_loras": 2,
                "max_lora_rank": 8,
                "allow_runtime_lora_updating": True,
                "lora_modules": [f"pre={sql}"],
            }
        )
        await pilot.pause()
        app.screen.set_focus(None)
        await pilot.press("f5")
        await until(pilot, lambda: app.run_state.state in ("ready", "failed"), 400)
        assert app.run_state.state == "ready", app.run_state.root_cause
        assert isinstance(app.screen, MonitorScreen)
        run = app.active_run
        url = run.url
        panel = app.screen.query_one(LoraPanel)
        # --lora-modules given at launch shows as loaded, and the server agrees.
        assert ("pre", str(sql)) in panel.adapters
        assert "pre" in served(url)

        # The panel: load, served, answers under its name, unload.
        status = await panel_action(pilot, panel, "lora-load", "chat", str(chat))
        assert panel.ok, status
        assert "chat" in served(url)
        assert any(name == "chat" for name, _ in panel.adapters)
        reply = httpx.post(
            url + "/v1/completions",
            json={"model": "chat", "prompt": "hello", "max_tokens": 4},
            timeout=120,
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["model"] == "chat"
        status = await panel_action(pilot, panel, "lora-unload", "chat")
        assert panel.ok, status
        assert "chat" not in served(url)

        # Refusals, each one sentence.
        status = await panel_action(pilot, panel, "lora-load", "ghost", str(tmp_path / "none"))
        assert not panel.ok and "no adapter at" in status
        status = await panel_action(pilot, panel, "lora-load", "big", str(big))
        assert not panel.ok and "rank is 16" in status and "--max-lora-rank 8" in status
        assert "big" not in served(url)

        # The CLI against the same run (key from the environment; none set here).
        out = cli("lora", "list", run.id, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "pre" in out.stdout
        out = cli("lora", "load", "chat", str(chat), run.id, timeout=180)
        assert out.returncode == 0, out.stderr
        assert "loaded chat" in out.stdout and "chat" in served(url)
        # A third adapter with --max-loras 2: vLLM evicts the least recently used; say so.
        out = cli("lora", "load", "extra", str(extra), "--url", url, timeout=180)
        assert out.returncode == 0, out.stderr
        assert "evicts" in out.stdout and "--max-loras" in out.stdout
        reply = httpx.post(
            url + "/v1/completions",
            json={"model": "pre", "prompt": "hello", "max_tokens": 4},
            timeout=120,
        )
        assert reply.status_code == 200, reply.text  # an evicted adapter loads again on use
        out = cli("lora", "load", "ghost", str(tmp_path / "none"), run.id, timeout=60)
        assert out.returncode == 1 and "no adapter at" in out.stderr
        assert "Traceback" not in out.stderr
        out = cli("lora", "load", "big", str(big), run.id, timeout=60)
        assert out.returncode == 1 and "--max-lora-rank 8" in out.stderr
        out = cli("lora", "unload", "extra", "--url", url, timeout=60)
        assert out.returncode == 0 and "extra" not in served(url)
        out = cli("lora", "unload", "nosuch", run.id, timeout=60)
        assert out.returncode == 1 and "no adapter named nosuch" in out.stderr

        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")
        await until(pilot, lambda: not run.alive(), 90)
    assert not run.alive()
    assert runs.group_pids(run.pgid) == []


async def test_a_server_without_runtime_updating_is_named_as_such(vllm_env, tiny_model, tmp_path):
    adapter = make_adapter(vllm_env, tmp_path / "sql", 8)
    port = free_port("127.0.0.1", 18950)
    out = cli(
        "run",
        str(tiny_model),
        "--max-model-len",
        "256",
        "--gpu-memory-utilization",
        "0.10",
        "--port",
        str(port),
        "--enable-lora",
        "--detach",
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    run = max(runs.list_runs(), key=lambda r: r.dir.stat().st_mtime)
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            try:
                if httpx.get(run.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert run.alive(), (run.log_path.read_text())[-2000:]
            time.sleep(2)
        out = cli("lora", "load", "sql", str(adapter), run.id, timeout=60)
        assert out.returncode == 1
        assert "does not allow runtime LoRA updates" in out.stderr
        assert "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True" in out.stderr
    finally:
        runs.stop(run)
    assert not run.alive()
