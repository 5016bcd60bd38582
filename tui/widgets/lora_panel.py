"""LoraPanel: the adapters the server serves (/v1/models), and loading/unloading them through
vLLM's runtime endpoints (needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, the guide's hot-swap)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Static


class LoraAction(Message):
    def __init__(self, action: str, name: str, path: str = "") -> None:
        super().__init__()
        self.action = action
        self.name = name
        self.path = path


class LoraPanel(Vertical):
    DEFAULT_CSS = """
    LoraPanel { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    LoraPanel Horizontal { height: auto; }
    LoraPanel Input { width: 1fr; }
    LoraPanel #lora-status { color: $text-muted; }
    """

    adapters: reactive[tuple[tuple[str, str], ...]] = reactive(())
    status: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        self.border_title = "LoRA hot-swap"
        yield Static("", id="lora-list")
        with Horizontal():
            yield Input(placeholder="adapter name", id="lora-name")
            yield Input(placeholder="/path/to/adapter", id="lora-path")
        with Horizontal():
            yield Button("Load", id="lora-load")
            yield Button("Unload", id="lora-unload")
            yield Button("Refresh", id="lora-refresh")
        yield Static("", id="lora-status")

    def watch_adapters(self) -> None:
        if self.is_mounted:
            text = "\n".join(f"• {n}  {p}" for n, p in self.adapters) or "no adapters loaded"
            self.query_one("#lora-list", Static).update(text)

    def watch_status(self, value: str) -> None:
        if self.is_mounted:
            self.query_one("#lora-status", Static).update(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        name = self.query_one("#lora-name", Input).value.strip()
        path = self.query_one("#lora-path", Input).value.strip()
        action = (event.button.id or "").removeprefix("lora-")
        if action in ("load", "unload") and not name:
            self.status = "give the adapter a name"
            return
        self.post_message(LoraAction(action, name, path))
