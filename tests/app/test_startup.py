"""Start-up in stages: importing the app loads nothing the first frame does not need, and the
start-up work (NVML, the HF cache, the vLLM, the model's facts) runs after that frame."""

from __future__ import annotations

import json
import subprocess
import sys

from tui.app import make_app

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
)


def test_importing_the_app_and_building_its_services_loads_no_adapter():
    code = (
        "import json, sys\n"
        "from tui.app import make_app\n"
        "from tui.adapters.services import Services\n"
        "Services.demo_services(); Services.real()\n"
        f"print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


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
