"""Every screen in `--lang ja`: no user-facing string is English only.

What is read: every visible widget's rendered text, border titles, button labels, input
placeholders, table cells, tab titles and the footer's labels; not the server's own log (vLLM
writes English) nor values the user typed. A string with Japanese in it passes; a string
without any is English only if it holds a word that is not a technical token (flag names,
model ids, units, acronyms, numbers: see ALLOWED).
"""

from __future__ import annotations

import re

import pytest
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, RichLog, Select, TextArea
from textual.widgets._footer import FooterKey
from textual.widgets._tabbed_content import ContentTab

from tui.app import make_app

from .app_helpers import launch, services, settle

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
ALLOWED = {
    # units, names and acronyms written the same way in Japanese text
    "vLLM", "LoRA", "GiB", "MiB", "KiB", "English", "Ctrl", "Shift", "Tab", "Esc", "End",
    "Enter", "Qwen", "Llama", "NVIDIA", "HBM", "demo", "vllm", "tui", "serve", "tok",
    "YAML", "URL", "TTFT", "p50", "p99", "ms", "OSC", "SSH", "NVML", "CUDA", "PCIe", "NVLink",
    "fp8", "bf16", "auto", "export", "True", "False", "http", "https", "Hugging", "Face",
}  # fmt: skip
FAIL_LOG = [
    "(EngineCore pid=2) ERROR 01-01 00:00:05 [core.py:708] EngineCore failed to start.",
    "(EngineCore pid=2) ERROR 01-01 00:00:05 [core.py:708] ValueError: To serve at least one request with the model's max seq len (200000), (27.47 GiB KV cache is needed, which is larger than the available KV cache memory (8.12 GiB). Based on the available memory, the estimated maximum model length is 59120. Try increasing `gpu_memory_utilization`",
]


def strings_of(widget: Widget) -> list[str]:
    out: list[str] = []
    for title in (widget.border_title, widget.border_subtitle):
        if title:
            out.append(str(title))
    if isinstance(widget, (RichLog, TextArea)):
        return out  # the server's log / text the user pastes
    if isinstance(widget, Input):
        return out + [widget.placeholder]
    if isinstance(widget, DataTable):
        if widget.show_header:
            out.extend(str(col.label) for col in widget.columns.values())
        for row in range(widget.row_count):
            out.extend(str(c) for c in widget.get_row_at(row))
        return out
    if isinstance(widget, FooterKey):
        return out + [widget.description]
    if isinstance(widget, ContentTab):
        return out + [str(widget.label)]
    if isinstance(widget, Select):
        return out
    try:
        rendered = widget.render()
    except Exception:
        return out
    if isinstance(rendered, (str, Content)):
        out.append(str(rendered))
    elif hasattr(rendered, "plain"):
        out.append(str(rendered.plain))
    return out


def english_only(text: str) -> list[str]:
    """The words that make `text` English only (empty: fine)."""
    if JAPANESE.search(text):
        return []
    words = []
    for token in text.split():
        word = token.strip(".,:;!?()[]{}<>'\"`…·•✓›✗★*|=+")
        if not re.fullmatch(r"[A-Za-z]{3,}", word) or word in ALLOWED or word.isupper():
            continue
        words.append(word)
    return words


def offenders(app) -> list[tuple[str, str]]:
    found = []
    for widget in app.screen.walk_children(with_self=True):
        if not widget.display or not widget.visible:
            continue
        if any(isinstance(a, (RichLog, TextArea)) for a in widget.ancestors):
            continue
        for text in strings_of(widget):
            if english_only(text):
                found.append((type(widget).__name__, text))
    return found


async def _monitor(pilot) -> None:
    await launch(pilot.app, pilot)


async def _open(pilot, key: str):
    pilot.app.screen.set_focus(None)
    await pilot.press(key)
    await pilot.pause()


STEPS = [
    pytest.param(lambda p: _open(p, "f1"), id="help"),
    pytest.param(lambda p: _open(p, "f7"), id="why"),
    pytest.param(lambda p: _open(p, "f2"), id="import"),
    pytest.param(lambda p: _open(p, "f3"), id="export"),
    pytest.param(lambda p: _open(p, "f4"), id="profiles"),
    pytest.param(lambda p: _open(p, "f6"), id="runs"),
    pytest.param(_monitor, id="monitor"),
]


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
@pytest.mark.parametrize("step", STEPS)
async def test_dialogs_and_monitor_are_japanese(step, size):
    app = make_app(services=services(), model="Qwen/Qwen3-8B", lang="ja")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await step(pilot)
        await pilot.pause(0.2)
        assert offenders(app) == []


async def test_monitor_quit_stop_and_failure_are_japanese():
    app = make_app(services=services(), model="Qwen/Qwen3-8B", lang="ja")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert offenders(app) == []
        await pilot.press("n")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert offenders(app) == []
        await pilot.press("escape")
        await pilot.pause()


async def test_the_language_switch_relabels_the_monitor_and_its_footer():
    app = make_app(services=services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await launch(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("f9")
        await pilot.pause(0.3)
        assert app.lang == "ja"
        assert offenders(app) == []


async def test_configure_screen_is_japanese():
    app = make_app(services=services(), model="Qwen/Qwen3-8B", lang="ja")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert offenders(app) == []


def test_the_checker_catches_english():
    assert english_only("Stop the server") == ["Stop", "the", "server"]
    assert english_only("サーバーを停止 (Stop)") == []
    assert english_only("--max-model-len 4096 · Qwen/Qwen3-8B · 79.2 GiB") == []
