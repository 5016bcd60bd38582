"""SVG snapshots of the watch table (servers we did not start) at 80x24 and 160x48, in English
and Japanese. The samples are fixed (no polling), so the pictures are deterministic."""

from __future__ import annotations

import pytest

from tui.adapters.remote import RemoteServer
from tui.adapters.remote_hub import WatchHub
from tui.app import make_app
from tui.core.metrics import MetricsSample
from tui.core.watchstate import ServerFacts, WatchSample
from tui.screens.watch import WatchScreen

from .app_helpers import services, settle

SIZES = [(80, 24), (160, 48)]
A, B, C = "http://10.0.0.5:8000", "http://10.0.0.6:8000", "http://gpu-box:8001"


def hub() -> WatchHub:
    h = WatchHub([RemoteServer(u) for u in (A, B, C)])
    facts = ServerFacts("Qwen/Qwen3-8B", ("Qwen/Qwen3-8B",), 40960, "0.32.0")
    for i, gen in enumerate((0.0, 120.5, 480.0, 910.2, 1204.7, 1180.3, 1322.9, 1250.0)):
        m = MetricsSample(
            prompt_tps=gen * 3,
            gen_tps=gen if i else None,
            running=4.0,
            waiting=1.0,
            kv_cache_usage_pct=37.5,
            ttft_p50_s=0.045,
        )
        h.add(WatchSample(A, float(i), "ready", facts=facts, metrics=m))
    h.add(
        WatchSample(
            B,
            1.0,
            "unauthorized",
            "401 at /v1/models: set VLLM_API_KEY or pass --api-key-file",
            facts=ServerFacts(vllm_version="0.32.0"),
            metrics=MetricsSample(running=0.0, waiting=0.0, kv_cache_usage_pct=0.0),
            retry_in_s=4.0,
            failures=1,
            healthy=True,
        )
    )
    h.add(WatchSample(C, 1.0, "unreachable", "connection refused", retry_in_s=8.0, failures=3))
    return h


async def table(pilot) -> None:
    await settle(pilot.app, pilot)
    await pilot.app.push_screen(WatchScreen(hub(), poll=False, open_single=False))
    await pilot.pause()
    pilot.app.screen.set_focus(None)
    await pilot.pause()


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_watch_table(snap_compare, size, lang):
    """Three watched servers. 10.0.0.5:8000 is ready, serving Qwen/Qwen3-8B: a rising gen tok/s
    sparkline ending at 1250.0, run/wait 4/1, KV 37.5, TTFT p50 45 ms. 10.0.0.6:8000 answers
    401 ("401 key?" / "401 キー?") with 0/0 and KV 0.0. gpu-box:8001 is unreachable (red),
    every number a dash. Above the table, one line says where the numbers come from and that
    the startup memory report is not available from the API. Headers in the chosen language."""
    app = make_app(services=services(), model="Qwen/Qwen3-8B", lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=table)
