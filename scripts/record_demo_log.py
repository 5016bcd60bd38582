"""Record the log that `vllm-tui --demo` replays: a real vLLM CPU run under varying load.

Usage: VLLM_TUI_VLLM_PYTHON=.venv-vllm/bin/python python scripts/record_demo_log.py MODEL_DIR OUT.log
"""

from __future__ import annotations

import asyncio
import re
import sys
import time

import httpx

from tui.adapters.launcher import free_port, launch
from tui.adapters.runs import stop
from tui.adapters.vllm_env import resolve_vllm
from tui.adapters.watcher import Watcher
from tui.core.config import ServeConfig


async def load(url: str, seconds: float) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        start = time.monotonic()
        wave = 0
        while time.monotonic() - start < seconds:
            wave += 1
            n = [2, 6, 12, 4, 16, 8, 1][wave % 7]
            body = {
                "model": "tiny",
                "prompt": "hello world the quick brown fox " * (wave % 5 + 1),
                "max_tokens": 64 + 16 * (wave % 4),
            }
            await asyncio.gather(
                *(client.post(url + "/v1/completions", json=body) for _ in range(n))
            )
            await asyncio.sleep(1.5)


async def main(model: str, out: str) -> None:
    install = resolve_vllm(None)
    assert install is not None, "set VLLM_TUI_VLLM_PYTHON"
    cfg = ServeConfig.build(
        model,
        {
            "max_model_len": 1024,
            "gpu_memory_utilization": 0.15,
            "served_model_name": ["tiny"],
            "port": free_port(None, 18700),
        },
    )
    run = launch(cfg, install)
    watcher = Watcher(run)
    try:
        while watcher.state.state not in ("ready", "failed"):
            await watcher.step()
            await asyncio.sleep(0.5)
        await load(run.url, 55)
        await asyncio.sleep(12)
    finally:
        stop(run)
    text = run.log_path.read_text(errors="replace")
    text = re.sub(r"/[\w./-]*/(\.venv-vllm|site-packages)/", r".venv/", text)
    text = text.replace(model, "models/llama-tiny")
    with open(out, "w") as fh:
        fh.write(text)
    print(f"wrote {out}: {len(text.splitlines())} lines")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
