"""`make screenshots`: SVGs of the main screens in demo mode (fake GPUs, the replayed log).

Usage: python scripts/screenshots.py OUT_DIR
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


async def shoot(out: Path) -> list[Path]:
    os.environ.setdefault("VLLM_TUI_HOME", tempfile.mkdtemp(prefix="vllm-tui-shots-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tui.adapters.services import ReplayLauncher, Services
    from tui.app import make_app

    def app(lang: str = "en"):
        svc = Services.demo_services()
        svc.launcher = ReplayLauncher(per_step=1000)
        return make_app(services=svc, model="Qwen/Qwen3-8B", lang=lang)

    written: list[Path] = []

    async def settle(a, pilot) -> None:
        await a.workers.wait_for_complete()
        await pilot.pause()
        a.screen.set_focus(None)
        await pilot.pause()

    async def configure(name: str, size: tuple[int, int], lang: str = "en", tweak=None) -> None:
        a = app(lang)
        async with a.run_test(size=size) as pilot:
            await settle(a, pilot)
            if tweak:
                await tweak(a, pilot)
            path = out / name
            path.write_text(a.export_screenshot(title="vllm-tui"))
            written.append(path)

    async def fp8(a, pilot):
        a.config = a.config.update(
            {"kv_cache_dtype": "fp8", "max_model_len": 32768, "gpu_memory_utilization": 0.95}
        )
        await pilot.pause()
        from tui.widgets.flag_help import FlagHelp

        a.screen.query_one(FlagHelp).dest = "kv_cache_dtype"
        await pilot.pause()

    async def tp3(a, pilot):
        a.config = a.config.set("tensor_parallel_size", 3)
        await pilot.pause()

    async def why(a, pilot):
        await pilot.press("f7")
        await pilot.pause()

    async def monitor(a, pilot):
        await pilot.press("f5")
        for _ in range(40):
            await pilot.pause(0.05)
            if a.run_state.state == "ready":
                break
        await pilot.pause(0.3)
        a.screen.set_focus(None)
        await pilot.pause()

    await configure("configure-160x48.svg", (160, 48), tweak=fp8)
    await configure("configure-80x24.svg", (80, 24))
    await configure("configure-ja-160x48.svg", (160, 48), lang="ja", tweak=fp8)
    await configure("configure-error-160x48.svg", (160, 48), tweak=tp3)
    await configure("why-this-number-160x48.svg", (160, 48), tweak=why)
    await configure("why-this-number-80x24.svg", (80, 24), tweak=why)
    await configure("monitor-160x48.svg", (160, 48), tweak=monitor)
    await configure("monitor-80x24.svg", (80, 24), tweak=monitor)
    return written


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(out)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
