"""Small modal screens: quit, confirm, help (keys), why-this-number, import, export, profiles,
runs. Each takes the language it speaks; every string is given in English and Japanese."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static, TextArea

from tui.bindings import help_rows
from tui.core.catalog.spec import Text
from tui.core.estimate import Estimate
from tui.core.estimate_text import bilingual
from tui.core.gpu_catalog import GiB

TERM_JA = {
    "weights": "重み",
    "activation": "活性ピーク",
    "non_torch": "torch 外（NCCL・バッファ）",
    "cuda_graph": "CUDA グラフ",
    "kv_cache": "KV キャッシュ",
}


def _t(lang: str, en: str, ja: str) -> str:
    return ja if lang == "ja" else en


class Dialog(ModalScreen[Any]):
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

    def __init__(self, lang: str = "en") -> None:
        super().__init__()
        self.lang = lang

    def tr(self, en: str, ja: str) -> str:
        return _t(self.lang, en, ja)


class QuitModal(Dialog):
    """A server is running: stop it, leave it running (detach), or cancel."""

    BINDINGS = [
        Binding("escape", "dismiss('cancel')", "Cancel"),
        Binding("s", "dismiss('stop')", "Stop"),
        Binding("l", "dismiss('leave')", "Leave running"),
    ]

    def __init__(self, run_id: str, url: str, lang: str = "en") -> None:
        super().__init__(lang)
        self.run_id, self.url = run_id, url

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Quit vllm-tui?", "vllm-tui を終了しますか？"), classes="title")
            yield Static(
                self.tr(
                    f"The server {self.run_id} is still running ({self.url}).\nStop it, or leave it running and re-open it later with `vllm-tui attach`.",
                    f"サーバー {self.run_id} はまだ動いています（{self.url}）。\n停止するか、動かしたままにして後で `vllm-tui attach` で開き直せます。",
                )
            )
            with Horizontal():
                yield Button(self.tr("Stop server (s)", "停止する (s)"), variant="error", id="stop")
                yield Button(
                    self.tr("Leave running (l)", "動かしたまま (l)"), variant="primary", id="leave"
                )
                yield Button(self.tr("Cancel (esc)", "キャンセル (esc)"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class ConfirmModal(ModalScreen[bool]):
    """Yes / no (y / n, Esc = no)."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 70; max-width: 95%; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    ConfirmModal .title { text-style: bold; color: $error; margin-bottom: 1; }
    ConfirmModal Horizontal { height: auto; margin-top: 1; }
    ConfirmModal Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "No"),
        Binding("y", "dismiss(True)", "Yes"),
    ]

    def __init__(self, title: str, body: str, yes: str, no: str) -> None:
        super().__init__()
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.body)
            with Horizontal():
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpModal(Dialog):
    """Every key (from tui.bindings, the one declaration)."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Keys", "キー操作"), classes="title")
            table: DataTable[str] = DataTable(show_header=False, cursor_type="none")
            table.add_columns("key", "action")
            for key, text in help_rows(self.lang):
                table.add_row(key, text)
            yield table


class WhyModal(Dialog):
    """Each memory term of the estimate: value, band, how it is obtained, guessed or exact."""

    DEFAULT_CSS = """
    WhyModal > Vertical { width: 150; }
    WhyModal #why-text { height: auto; }
    """

    BINDINGS = [Binding("escape,f7,q", "dismiss", "Close")]

    def __init__(
        self,
        estimate: Estimate | None,
        lang: str = "en",
        note: str = "",
        findings: Sequence[Text] = (),
    ) -> None:
        super().__init__(lang)
        self.estimate = estimate
        self.note = note
        self.known = tuple(findings)
        """Findings' messages, which can become the verdict's reason (tui/core/plan.py)."""

    def say(self, english: str) -> str:
        """One sentence of the estimator in the language in effect."""
        return bilingual(english, self.known).get(self.lang)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Why this number", "この数字の内訳"), classes="title")
            if self.note:
                yield Static(Content.styled(self.note, "$warning"))
            est = self.estimate
            if est is None:
                yield Static(
                    self.tr(
                        "No estimate yet: choose a model.",
                        "まだ見積もりがありません: モデルを選んでください。",
                    )
                )
                return
            table: DataTable[str] = DataTable(cursor_type="none")
            table.add_columns(
                self.tr("term", "項目"), "GiB", self.tr("band", "幅"), self.tr("how", "求め方"), ""
            )
            exact = self.tr("vLLM's arithmetic", "vLLM と同じ計算")
            table.add_row(
                self.tr("budget", "予算"),
                f"{est.budget_bytes / GiB:.2f}",
                "",
                self.tr(
                    f"utilization x {est.total_bytes / GiB:.2f} GiB total",
                    f"使用率 x 全体 {est.total_bytes / GiB:.2f} GiB",
                ),
                exact,
            )
            for term in est.terms:
                table.add_row(
                    TERM_JA.get(term.key, term.label) if self.lang == "ja" else term.label,
                    f"{term.value / GiB:.2f}",
                    f"{term.low / GiB:.2f}–{term.high / GiB:.2f}",
                    self.say(term.basis),
                    term.provenance_in(self.lang),
                )
            yield table
            kv = est.kv
            graphs = self.tr(" − CUDA graphs", " − CUDA グラフ") if est.cuda_graph_in_budget else ""
            text = self.tr(
                f"KV cache = budget − weights − activation − non-torch{graphs}",
                f"KV キャッシュ = 予算 − 重み − 活性 − torch 外{graphs}",
            ) + self.tr(
                f"\nblocks = KV bytes // (block {kv.block_size} x {kv.bytes_per_token:,} B/token) = {kv.num_blocks:,}"
                f"\ntokens = {kv.tokens:,}; concurrency = {kv.max_concurrency:.2f}x at {est.max_model_len:,}",
                f"\nブロック数 = KV バイト // (ブロック {kv.block_size} x {kv.bytes_per_token:,} B/トークン) = {kv.num_blocks:,}"
                f"\nトークン数 = {kv.tokens:,}、同時実行数 = {est.max_model_len:,} で {kv.max_concurrency:.2f} 倍",
            )
            yield Static(text, id="why-text")
            verdict = (*est.explanation[-1:], est.verdict)
            yield Static("\n".join(map(self.say, verdict)), id="why-verdict")
            notes = "\n".join(map(self.say, est.notes))
            yield Static(Content.styled(notes, "$text-muted"), id="why-notes")


class ImportModal(Dialog):
    """Paste a `vllm serve ...` command or a YAML config."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                self.tr(
                    "Import a vllm serve command or YAML config",
                    "vllm serve コマンドまたは YAML 設定の取り込み",
                ),
                classes="title",
            )
            yield TextArea(id="import-text")
            yield Static("", id="import-error")
            with Horizontal():
                yield Button(self.tr("Import", "取り込む"), variant="primary", id="import")
                yield Button(self.tr("Cancel", "キャンセル"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        self.dismiss(self.query_one(TextArea).text)


class ExportModal(Dialog):
    """Export as command / YAML / shell script: copy (OSC 52) or write a file."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    NAMES = {"command": "コマンド", "yaml": "YAML", "shell script": "シェルスクリプト"}

    def __init__(self, texts: dict[str, str], lang: str = "en") -> None:
        super().__init__(lang)
        self.texts = texts

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Export", "書き出し"), classes="title")
            yield Select(
                [(self.tr(k, self.NAMES.get(k, k)), k) for k in self.texts],
                value=next(iter(self.texts)),
                allow_blank=False,
                id="export-format",
            )
            yield TextArea(next(iter(self.texts.values())), read_only=True, id="export-text")
            yield Input(
                placeholder=self.tr("file to write (optional)", "書き出すファイル（任意）"),
                id="export-path",
            )
            with Horizontal():
                yield Button(self.tr("Copy", "コピー"), variant="primary", id="copy")
                yield Button(self.tr("Write file", "ファイルに書く"), id="write")
                yield Button(self.tr("Close", "閉じる"), id="close")

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

    def __init__(self, names: list[str], lang: str = "en") -> None:
        super().__init__(lang)
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Profiles", "プロファイル"), classes="title")
            yield OptionList(
                *(self.names or [self.tr("(no profiles yet)", "（プロファイルはまだありません）")]),
                id="profile-list",
            )
            yield Input(
                placeholder=self.tr("name to save the current config as", "今の設定を保存する名前"),
                id="profile-name",
            )
            with Horizontal():
                yield Button(self.tr("Save", "保存"), variant="primary", id="save")
                yield Button(self.tr("Load selected", "選んだものを読み込む"), id="load")
                yield Button(self.tr("Close", "閉じる"), id="close")

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

    def __init__(self, runs: list[Any], lang: str = "en") -> None:
        super().__init__(lang)
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Runs", "実行一覧"), classes="title")
            table: DataTable[str] = DataTable(cursor_type="row", id="runs-table")
            table.add_columns(
                self.tr("run", "実行"),
                self.tr("model", "モデル"),
                self.tr("state", "状態"),
                "URL",
            )
            for run in self.runs:
                state = self.tr("running", "実行中") if run.alive() else self.tr("ended", "終了")
                table.add_row(run.id, run.model, state, run.url)
            yield table
            if not self.runs:
                yield Static(self.tr("No runs yet.", "まだ実行はありません。"))
            with Horizontal():
                yield Button(self.tr("Attach (a)", "接続 (a)"), variant="primary", id="attach")
                yield Button(self.tr("Stop (s)", "停止 (s)"), variant="error", id="stop")
                yield Button(self.tr("Close", "閉じる"), id="close")

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
