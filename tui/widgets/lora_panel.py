"""LoraPanel: the adapters the server serves (/v1/models), and loading/unloading them through
vLLM's runtime endpoints (needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, the guide's hot-swap).
Adapters given with --lora-modules at launch show as loaded from the start."""

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
    LoraPanel.-error #lora-status { color: $error; }
    """

    adapters: reactive[tuple[tuple[str, str], ...]] = reactive(())
    status: reactive[str] = reactive("")
    ok: reactive[bool] = reactive(True)
    """The last action succeeded (the status line is an error otherwise)."""

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def tr(self, en: str, ja: str) -> str:
        return ja if self.lang == "ja" else en

    def compose(self) -> ComposeResult:
        self.border_title = self.tr("LoRA hot-swap", "LoRA の入れ替え")
        yield Static(self._list_text(), id="lora-list")
        with Horizontal():
            yield Input(placeholder=self.tr("adapter name", "アダプター名"), id="lora-name")
            yield Input(
                placeholder=self.tr("/path/to/adapter", "/アダプター/のパス"), id="lora-path"
            )
        with Horizontal():
            yield Button(self.tr("Load", "読み込む"), id="lora-load")
            yield Button(self.tr("Unload", "外す"), id="lora-unload")
            yield Button(self.tr("Refresh", "更新"), id="lora-refresh")
        yield Static("", id="lora-status")

    def _list_text(self) -> str:
        return "\n".join(f"• {n}  {p}" for n, p in self.adapters) or self.tr(
            "no adapters loaded", "読み込まれたアダプターはありません"
        )

    def watch_adapters(self) -> None:
        if self.is_mounted:
            self.query_one("#lora-list", Static).update(self._list_text())

    def watch_status(self, value: str) -> None:
        if self.is_mounted:
            self.query_one("#lora-status", Static).update(value)

    def watch_ok(self, ok: bool) -> None:
        self.set_class(not ok, "-error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        name = self.query_one("#lora-name", Input).value.strip()
        path = self.query_one("#lora-path", Input).value.strip()
        action = (event.button.id or "").removeprefix("lora-")
        if action == "refresh":
            action = "list"
        if action in ("load", "unload") and not name:
            self.ok = False
            self.status = self.tr("give the adapter a name", "アダプター名を入力してください")
            return
        if action == "load" and not path:
            self.ok = False
            self.status = self.tr("give the adapter's path", "アダプターのパスを入力してください")
            return
        self.post_message(LoraAction(action, name, path))
