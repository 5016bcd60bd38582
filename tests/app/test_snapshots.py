"""SVG snapshots of every screen at 80x24 and 160x48 (fake GPUs, replayed log, no focus/cursor).

Each test's docstring says what you should see. Update after a deliberate UI change with
`pytest tests/app/test_snapshots.py --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

import pytest

from tui.adapters.replay import demo_snapshot
from tui.app import make_app

from .app_helpers import planning_services, services, settle

SIZES = [(80, 24), (160, 48)]
FAIL_LOG = [
    "(APIServer pid=1) INFO 01-01 00:00:00 [api_utils.py:286] non-default args: {'model': 'Qwen/Qwen3-8B', 'max_model_len': 200000}",
    "(EngineCore pid=2) ERROR 01-01 00:00:05 [core.py:708] EngineCore failed to start.",
    "(EngineCore pid=2) ERROR 01-01 00:00:05 [core.py:708] ValueError: To serve at least one request with the model's max seq len (200000), (27.47 GiB KV cache is needed, which is larger than the available KV cache memory (8.12 GiB). Based on the available memory, the estimated maximum model length is 59120. Try increasing `gpu_memory_utilization`",
    "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore_DP0': 1}",
]


async def ready(pilot) -> None:
    await settle(pilot.app, pilot)
    pilot.app.screen.set_focus(None)
    await pilot.pause()


async def launched(pilot) -> None:
    await ready(pilot)
    await pilot.press("f5")
    for _ in range(30):
        await pilot.pause(0.05)
        if (
            pilot.app.run_state.state in ("ready", "failed")
            and pilot.app.screen.__class__.__name__ == "MonitorScreen"
        ):
            break
    await pilot.pause(0.2)
    pilot.app.screen.set_focus(None)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_configure_with_a_detected_gpu(snap_compare, size):
    """Configure screen, one fake H100 detected (ticked). Model Qwen/Qwen3-8B with its facts
    (8.19B params, 36 layers, 32/8 heads, context 40,960). The guide's flags first (★).
    VRAM: weights ~15.3, activation ~2.4, KV ~54 GiB; verdict 'starts' with ~396k KV tokens.
    Checks: no problems. Command: `vllm serve Qwen/Qwen3-8B --host 127.0.0.1`."""
    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B"), terminal_size=size, run_before=ready
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_configure_planning_mode_with_an_error(snap_compare, size):
    """Planning mode (no GPU, no vLLM): the GPU panel says why and offers the planning GPU.
    The config has -tp 3 on Qwen3-8B: the VRAM panel border is red with a 'fails' verdict, the
    checks list the TP error ('Valid TP sizes: 1, 2, 4, 8 ...') with its fix and that 3 GPUs
    are needed; the command shows --tensor-parallel-size 3."""
    app = make_app(services=planning_services(), model="Qwen/Qwen3-8B")

    async def before(pilot):
        await ready(pilot)
        pilot.app.planning_count = 2
        pilot.app.config = pilot.app.config.set("tensor_parallel_size", 3)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_configure_in_japanese(snap_compare, size):
    """The detected-GPU configure screen in --lang ja: panel titles (GPU, モデル, フラグ,
    チェック, ヘルプ, コマンド), the guide's flags under 'ガイドのフラグ' with Japanese one-line
    help at 160x48 (placeholders '既定: …'), the model facts in Japanese and a Japanese footer."""
    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B", lang="ja"),
        terminal_size=size,
        run_before=ready,
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_monitor_ready_with_throughput(snap_compare, size):
    """Monitor screen after replaying the recorded vLLM CPU run: READY, vLLM 0.32.0, phases
    ticked (config … API up); memory table (no prediction: the demo replays a CPU run of a
    tiny model, said in the title; vLLM's numbers from the demo log); throughput sparklines
    with current/peak values; the log on the right (160x48). At 80x24 the panels are tabs
    (Server, Throughput, Log) with the Server tab shown."""
    assert snap_compare(
        make_app(services=services(snapshot=demo_snapshot()), model="Qwen/Qwen3-8B"),
        terminal_size=size,
        run_before=launched,
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_monitor_failed_with_diagnosis(snap_compare, size):
    """Monitor screen of a failed start: FAILED; the red 'What went wrong' panel names
    kv cache too small, explains it, suggests '--max-model-len 59120' and offers 'Apply fix and
    relaunch (F8)'; the log shows the ERROR lines highlighted (160x48; at 80x24 the Server tab
    with the panel, the log in its own tab)."""
    app = make_app(services=services(lines=FAIL_LOG), model="Qwen/Qwen3-8B")

    async def before(pilot):
        await ready(pilot)
        pilot.app.config = pilot.app.config.set("max_model_len", 32768)
        await launched(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_monitor_ready_in_japanese(snap_compare, size):
    """The ready monitor in Japanese: 稼働中, phases (設定 … API 起動), the memory table
    (予測 / vLLM / 差), スループット with 最大 values, the ログ panel and the footer labels
    (停止, 設定へ, 修正して再起動 …). At 80x24 the panels are tabs (サーバー, スループット, ログ)."""
    app = make_app(services=services(snapshot=demo_snapshot()), model="Qwen/Qwen3-8B", lang="ja")
    assert snap_compare(app, terminal_size=size, run_before=launched)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_why_this_number_in_japanese(snap_compare, size):
    """F7 in Japanese: この数字の内訳, term names (重み, 活性ピーク, torch 外, CUDA グラフ,
    KV キャッシュ), how each is obtained, and the block arithmetic in Japanese; each term's
    basis is still English (it comes from the estimator)."""

    async def before(pilot):
        await ready(pilot)
        await pilot.press("f7")
        await pilot.pause()

    app = make_app(services=services(), model="Qwen/Qwen3-8B", lang="ja")
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_quit_dialog(snap_compare, size):
    """The quit dialog over the monitor screen: 'Stop server (s)', 'Leave running (l)', 'Cancel (esc)'."""

    async def before(pilot):
        await launched(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()

    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B"), terminal_size=size, run_before=before
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_dialog(snap_compare, size):
    """F1: every key from the one declaration (tui.bindings): F1 help, Ctrl+Q quit, Ctrl+P
    palette, F5 launch, F2/F3 import/export, F4, F6, F7, F9, Ctrl+F, Ctrl+Y, Ctrl+X stop (asks),
    Esc, F8 relaunch, W wrap, End; then Tab / Shift+Tab and Esc."""

    async def before(pilot):
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B"), terminal_size=size, run_before=before
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_why_this_number(snap_compare, size):
    """F7: each memory term (budget, weights exact, activation/non-torch/CUDA graphs as guesses
    with their bands, KV cache), the block arithmetic, and the version notes."""

    async def before(pilot):
        await ready(pilot)
        await pilot.press("f7")
        await pilot.pause()

    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B"), terminal_size=size, run_before=before
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "key", ["f2", "f3", "f4", "f6"], ids=["import", "export", "profiles", "runs"]
)
def test_dialogs(snap_compare, size, key):
    """F2 import (an empty text area for a pasted command or YAML), F3 export (format select,
    the command with secrets masked, a file path, Copy / Write file / Close), F4 profiles (none
    yet, a name box, Save / Load / Close), F6 runs (an empty table of runs, Attach / Stop)."""

    async def before(pilot):
        await ready(pilot)
        await pilot.press(key)
        await pilot.pause()
        pilot.app.screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(
        make_app(services=services(), model="Qwen/Qwen3-8B"), terminal_size=size, run_before=before
    )
