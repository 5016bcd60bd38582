"""App start-up and responsiveness. Prints numbers; asserts nothing.

1. Time from process start to the first painted frame (headless), median of N runs, next to a
   bare Textual "hello world" measured in the same run.
2. Modules imported by then (and which heavy ones are deliberately not).
3. Keystroke-to-repaint latency of the VRAM panel: typing into --max-model-len until the panel
   shows the new estimate (Pilot, includes Textual's own event loop).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("N", "5"))

APP = r"""
import os, sys, time, json
t0 = float(sys.argv[1])
from tui.app import make_app
from tui.adapters.services import Services
svc = Services.demo_services()
app = make_app(services=svc, model="Qwen/Qwen3-8B")
def first_frame():
    mods = sorted(sys.modules)
    print(json.dumps({"first_frame": time.time() - t0, "modules": len(mods),
                      "heavy": [m for m in ("torch", "vllm", "huggingface_hub", "httpx", "pynvml", "psutil", "yaml", "prometheus_client", "textual", "rich") if m in sys.modules]}))
    app.exit()
app.call_after_refresh(lambda: app.call_after_refresh(first_frame))
app.run(headless=True, size=(160, 48))
"""

HELLO = r"""
import sys, time, json
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import Static
class Hello(App):
    def compose(self):
        yield Static("hello world")
    def on_mount(self):
        self.call_after_refresh(lambda: self.call_after_refresh(self.done))
    def done(self):
        print(json.dumps({"first_frame": time.time() - t0}))
        self.exit()
Hello().run(headless=True, size=(160, 48))
"""


def measure(code: str) -> list[dict]:
    out = []
    env = dict(
        os.environ, VLLM_TUI_HOME=tempfile.mkdtemp(prefix="vllm-tui-bench-"), HF_HUB_OFFLINE="1"
    )
    for _ in range(N):
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", code, repr(t0)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not line:
            raise SystemExit(proc.stderr[-2000:])
        out.append(json.loads(line[-1]))
    return out


async def keystroke_latency() -> list[float]:
    os.environ.setdefault("VLLM_TUI_HOME", tempfile.mkdtemp(prefix="vllm-tui-bench-"))
    from tui.adapters.services import Services
    from tui.app import make_app
    from tui.widgets.vram_panel import VramPanel

    app = make_app(services=Services.demo_services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        field = app.screen.query_one("#ctl-max_model_len")
        field.focus()
        panel = app.screen.query_one(VramPanel)
        return await _type_values(
            pilot, field, lambda v: f"at {int(v):,} tokens" in str(panel.render())
        )


async def keystroke_baseline() -> list[float]:
    """The same measurement on a bare Textual app: one Input echoed into one Static."""
    from textual.app import App
    from textual.widgets import Input, Static

    class Echo(App):
        def compose(self):
            yield Input(id="i")
            yield Static(id="s")

        def on_input_changed(self, event):
            self.query_one("#s", Static).update(f"at {event.value} tokens")

    app = Echo()
    async with app.run_test(size=(160, 48)) as pilot:
        field = app.query_one("#i", Input)
        field.focus()
        label = app.query_one("#s", Static)
        return await _type_values(pilot, field, lambda v: f"at {v} tokens" in str(label.render()))


async def _type_values(pilot, field, shown) -> list[float]:
    """Type each value into FIELD; seconds per keystroke until shown(value) holds."""
    times = []
    for value in ("4096", "8192", "16384", "32768", "2048", "40960"):
        field.value = ""
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press(*value)
        while not shown(value):
            await asyncio.sleep(0)
        times.append((time.perf_counter() - t0) / len(value))
    return times


def plan_cost() -> float:
    os.environ.setdefault("VLLM_TUI_HOME", tempfile.mkdtemp(prefix="vllm-tui-bench-"))
    from tui.core.arch_catalog import builtin_facts
    from tui.core.config import ServeConfig
    from tui.core.gpu_catalog import find_gpu
    from tui.core.plan import plan

    facts = builtin_facts("Qwen/Qwen3-235B-A22B")
    gpu = find_gpu("H100")
    t0 = time.perf_counter()
    for i in range(200):
        plan(
            facts,
            ServeConfig.build("m", {"max_model_len": 1000 + i, "tensor_parallel_size": 8}),
            (gpu,) * 8,
            planning=True,
        )
    return (time.perf_counter() - t0) / 200


def main() -> int:
    app = measure(APP)
    hello = measure(HELLO)
    a = statistics.median(r["first_frame"] for r in app)
    h = statistics.median(r["first_frame"] for r in hello)
    print(
        f"first frame (headless, median of {N}): vllm-tui {a * 1000:.0f} ms, bare Textual hello world {h * 1000:.0f} ms (+{(a - h) * 1000:.0f} ms)"
    )
    print(
        f"modules imported by the first frame: {app[0]['modules']}; of the heavy ones: {', '.join(app[0]['heavy'])}"
    )
    print(
        "  (not imported in the UI process: torch, vllm; huggingface_hub/pynvml/httpx load in workers when needed)"
    )
    lat = asyncio.run(keystroke_latency())
    base = asyncio.run(keystroke_baseline())
    print(
        f"keystroke -> VRAM panel repaint: median {statistics.median(lat) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms per key (Pilot, {len(lat)} edits)"
    )
    print(
        f"  same measurement on a bare Textual Input+Static app: median {statistics.median(base) * 1000:.1f} ms per key (Pilot's own cost)"
    )
    print(f"pure re-estimate (plan + validation, Qwen3-235B TP8): {plan_cost() * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
