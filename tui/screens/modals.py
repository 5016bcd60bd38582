"""Small modal screens: quit, help (keys), why-this-number, import, export, profiles, runs."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static, TextArea

from tui.core.estimate import Estimate
from tui.core.gpu_catalog import GiB


class Dialog(ModalScreen):  # type: ignore[type-arg]
    """A centred box over the dimmed screen. (DEFAULT_CSS is scoped to the class that declares
    it, so every rule starts with `Dialog`, which matches the subclasses.)"""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical { width: 90; max-width: 95%; height: auto; max-height: 95%; border: thick $primary; background: $surface; padding: 1 2; overflow-y: auto; }
    Dialog.-short > Vertical { padding: 0 1; }
    Dialog .title { text-style: bold; color: $primary; margin-bottom: 1; }
    Dialog Horizontal { height: auto; margin-top: 1; }
    Dialog Button { margin-right: 2; }
    Dialog TextArea { height: 10; }
    Dialog.-short TextArea { height: 4; }
    Dialog.-short .title { margin-bottom: 0; }
    Dialog.-short Horizontal { margin-top: 0; }
    Dialog DataTable { height: auto; max-height: 20; }
    """


class QuitModal(Dialog):
    """A server is running: stop it, leave it running (detach), or cancel."""

    BINDINGS = [
        Binding("escape", "dismiss('cancel')", "Cancel"),
        Binding("s", "dismiss('stop')", "Stop"),
        Binding("l", "dismiss('leave')", "Leave running"),
    ]

    def __init__(self, run_id: str, url: str) -> None:
        super().__init__()
        self.run_id, self.url = run_id, url

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Quit vllm-tui?", classes="title")
            yield Static(
                f"The server {self.run_id} is still running ({self.url}).\nStop it, or leave it running and re-open it later with `vllm-tui attach`."
            )
            with Horizontal():
                yield Button("Stop server (s)", variant="error", id="stop")
                yield Button("Leave running (l)", variant="primary", id="leave")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class HelpModal(Dialog):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        keys = [
            ("F5", "Launch the server with these flags", "このフラグでサーバーを起動"),
            (
                "F2 / F3",
                "Import a command or YAML / export command, YAML, script",
                "コマンドや YAML の取り込み / 書き出し",
            ),
            ("F4", "Profiles: save and load named configs", "プロファイルの保存と読み込み"),
            ("F6", "Runs: attach to or stop a server", "実行中のサーバーへの接続と停止"),
            ("F7", "Why this number: each memory term explained", "各メモリ項目の説明"),
            ("F9", "English / 日本語", "English / 日本語"),
            ("Ctrl+F", "Apply the first suggested fix", "最初の修正案を適用"),
            (
                "Ctrl+Y",
                "Copy the command (OSC 52, works over SSH)",
                "コマンドをコピー（SSH 越しでも可）",
            ),
            ("Ctrl+X", "Stop the server (monitor screen)", "サーバーを停止（モニター画面）"),
            ("F8", "Apply the diagnosed fix and relaunch", "診断された修正を適用して再起動"),
            ("Esc", "Back / close", "戻る / 閉じる"),
            ("Ctrl+P", "Command palette: every action", "コマンドパレット: すべての操作"),
            (
                "Ctrl+Q",
                "Quit (asks what to do with a running server)",
                "終了（実行中のサーバーの扱いを確認）",
            ),
        ]
        with Vertical():
            yield Label("Keys" if self.lang == "en" else "キー操作", classes="title")
            table = DataTable(show_header=False, cursor_type="none")
            table.add_columns("key", "action")
            for key, en, ja in keys:
                table.add_row(key, ja if self.lang == "ja" else en)
            yield table


class WhyModal(Dialog):
    """Each memory term of the estimate: value, band, how it is obtained, guessed or exact."""

    DEFAULT_CSS = """
    WhyModal > Vertical { width: 150; }
    """

    BINDINGS = [Binding("escape,f7,q", "dismiss", "Close")]

    def __init__(self, estimate: Estimate | None) -> None:
        super().__init__()
        self.estimate = estimate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Why this number", classes="title")
            est = self.estimate
            if est is None:
                yield Static("No estimate yet: choose a model.")
                return
            table = DataTable(cursor_type="none")
            table.add_columns("term", "GiB", "band", "how", "")
            table.add_row(
                "budget",
                f"{est.budget_bytes / GiB:.2f}",
                "",
                f"utilization x {est.total_bytes / GiB:.2f} GiB total",
                "exact",
            )
            for t in est.terms:
                table.add_row(
                    t.label,
                    f"{t.value / GiB:.2f}",
                    f"{t.low / GiB:.2f}–{t.high / GiB:.2f}",
                    t.basis,
                    "guess" if t.guess else "exact",
                )
            yield table
            kv = est.kv
            text = (
                "KV cache = budget − weights − activation − non-torch" + (" − CUDA graphs" if est.cuda_graph_in_budget else "")
                + f"\nblocks = KV bytes // (block {kv.block_size} x {kv.bytes_per_token:,} B/token) = {kv.num_blocks:,}"
                + f"\ntokens = {kv.tokens:,}; concurrency = {kv.max_concurrency:.2f}x at {est.max_model_len:,}"
            )  # fmt: skip
            yield Static(text)
            yield Static(Content.styled("\n".join(est.notes), "$text-muted"))


class ImportModal(Dialog):
    """Paste a `vllm serve ...` command or a YAML config."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Import a vllm serve command or YAML config", classes="title")
            yield TextArea(id="import-text")
            yield Static("", id="import-error")
            with Horizontal():
                yield Button("Import", variant="primary", id="import")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        self.dismiss(self.query_one(TextArea).text)


class ExportModal(Dialog):
    """Export as command / YAML / shell script: copy (OSC 52) or write a file."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__()
        self.texts = texts

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export", classes="title")
            yield Select(
                [(k, k) for k in self.texts],
                value=next(iter(self.texts)),
                allow_blank=False,
                id="export-format",
            )
            yield TextArea(next(iter(self.texts.values())), read_only=True, id="export-text")
            yield Input(placeholder="file to write (optional)", id="export-path")
            with Horizontal():
                yield Button("Copy", variant="primary", id="copy")
                yield Button("Write file", id="write")
                yield Button("Close", id="close")

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one("#export-text", TextArea).text = self.texts[str(event.value)]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        fmt = str(self.query_one("#export-format", Select).value)
        if event.button.id == "close":
            self.dismiss(None)
        elif event.button.id == "copy":
            self.dismiss(("copy", fmt))
        else:
            path = self.query_one("#export-path", Input).value.strip()
            self.dismiss(("write:" + path, fmt) if path else None)


class ProfilesModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Profiles", classes="title")
            yield OptionList(*(self.names or ["(no profiles yet)"]), id="profile-list")
            yield Input(placeholder="name to save the current config as", id="profile-name")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Load selected", id="load")
                yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            name = self.query_one("#profile-name", Input).value.strip()
            self.dismiss(("save", name) if name else None)
        elif event.button.id == "load":
            opt = self.query_one(OptionList)
            if self.names and opt.highlighted is not None:
                self.dismiss(("load", self.names[opt.highlighted]))
        else:
            self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.names:
            self.dismiss(("load", self.names[event.option_index]))


class RunsModal(Dialog):
    """Runs (alive or not): attach to one, or stop it."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("a", "pick('attach')", "Attach"),
        Binding("s", "pick('stop')", "Stop"),
    ]

    def __init__(self, runs: list[Any]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Runs", classes="title")
            table = DataTable(cursor_type="row", id="runs-table")
            table.add_columns("run", "model", "state", "url")
            for run in self.runs:
                table.add_row(run.id, run.model, "running" if run.alive() else "ended", run.url)
            yield table
            if not self.runs:
                yield Static("No runs yet.")
            with Horizontal():
                yield Button("Attach (a)", variant="primary", id="attach")
                yield Button("Stop (s)", variant="error", id="stop")
                yield Button("Close", id="close")

    def action_pick(self, what: str) -> None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row is None:
            return
        self.dismiss((what, self.runs[table.cursor_row].id))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("attach", "stop"):
            self.action_pick(event.button.id)
        else:
            self.dismiss(None)
