"""Every key binding, declared once: key, action, id, label and tooltip in both languages.

The screens' BINDINGS, the footer (labels, tooltips), the command palette and the F1 help
are all derived from `KEYS`; nothing about a key is written twice. Switching language
rebuilds the active bindings with the other labels (`apply_language`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap, BindingType
from textual.dom import DOMNode

from tui.core.catalog import Text, t


@dataclass(frozen=True)
class Key:
    scope: str
    """Where it applies: "app" (everywhere), "configure" or "monitor"."""
    key: str
    action: str
    id: str
    label: Text
    """Short, for the footer."""
    tooltip: Text
    """A sentence, for the footer's tooltip, the palette and F1."""
    display: str = ""
    """How F1 writes the key (default: the key itself, capitalised)."""
    show: bool = True
    priority: bool = False
    palette: bool = True
    """Offer it in the command palette (Ctrl+P)."""

    @property
    def shown_key(self) -> str:
        return self.display or "+".join(p.capitalize() for p in self.key.split(",")[0].split("+"))


KEYS: tuple[Key, ...] = (
    Key("app", "f1", "help", "help", t("Help", "ヘルプ"),
        t("All key bindings", "すべてのキー操作")),
    Key("app", "ctrl+q", "quit", "quit", t("Quit", "終了"),
        t("Quit (asks what to do with a running server)", "終了（実行中のサーバーの扱いを確認）"),
        priority=True),
    Key("app", "ctrl+p", "command_palette", "palette", t("Palette", "パレット"),
        t("Command palette: every action", "コマンドパレット: すべての操作"), show=False,
        priority=True, palette=False),
    Key("configure", "f5", "app.launch", "launch", t("Launch", "起動"),
        t("Start vLLM with the current flags", "このフラグで vLLM を起動"), priority=True),
    Key("configure", "f2", "app.import_config", "import", t("Import", "取り込み"),
        t("Paste a vllm serve command or a YAML config", "vllm serve コマンドや YAML 設定を貼り付けて取り込み")),
    Key("configure", "f3", "app.export", "export", t("Export", "書き出し"),
        t("Export the command, YAML or a shell script", "コマンド・YAML・シェルスクリプトとして書き出し")),
    Key("configure", "f4", "app.profiles", "profiles", t("Profiles", "プロファイル"),
        t("Save or load a named config", "名前付き設定の保存と読み込み")),
    Key("configure", "f6", "app.runs", "runs", t("Runs", "実行一覧"),
        t("Attach to or stop a server", "実行中のサーバーへの接続と停止")),
    Key("configure", "f7", "app.why", "why", t("Why?", "内訳"),
        t("Why this number: each memory term explained", "各メモリ項目の説明")),
    Key("configure", "f9", "app.toggle_lang", "lang", t("日本語/EN", "English/日本語"),
        t("Switch the language (English / 日本語)", "表示言語の切り替え（English / 日本語）")),
    Key("configure", "ctrl+f", "apply_fix", "apply-fix", t("Apply fix", "修正を適用"),
        t("Apply the first suggested fix", "最初の修正案を適用"), palette=False),
    Key("configure", "ctrl+y", "app.copy_command", "copy", t("Copy", "コピー"),
        t("Copy the command (OSC 52, works over SSH)", "コマンドをコピー（OSC 52、SSH 越しでも可）"),
        show=False),
    Key("configure", "slash", "focus_search", "search", t("Search", "検索"),
        t("Search the flags (from anywhere on this screen)", "フラグを検索（この画面のどこからでも）"),
        display="/", show=False, palette=False),
    Key("configure", "f10", "flag_help", "flag-help", t("Flag help", "フラグの説明"),
        t("The focused flag's full help in a popup", "フォーカス中のフラグの説明をポップアップで表示")),
    Key("monitor", "ctrl+x", "app.stop_server", "stop", t("Stop", "停止"),
        t("Stop the server (asks first)", "サーバーを停止（確認あり）")),
    Key("monitor", "escape", "back", "back", t("Configure", "設定へ"),
        t("Back to configure (the server keeps running)",
          "設定画面へ戻る（サーバーは動いたまま）"), display="Esc", palette=False),
    Key("monitor", "escape", "back_watch", "back-watch", t("Back", "戻る"),
        t("Back to the servers you watch (they keep running)",
          "監視中のサーバー一覧へ戻る（サーバーは動いたまま）"), display="Esc", palette=False),
    Key("monitor", "f8", "fix_relaunch", "relaunch", t("Fix+relaunch", "修正して再起動"),
        t("Apply the diagnosed fix (if any) and relaunch", "診断された修正を適用して（あれば）再起動"),
        palette=False),
    Key("monitor", "f6", "app.runs", "runs", t("Runs", "実行一覧"),
        t("Attach to or stop a server", "実行中のサーバーへの接続と停止"), palette=False),
    Key("monitor", "f9", "app.toggle_lang", "lang", t("日本語/EN", "English/日本語"),
        t("Switch the language (English / 日本語)", "表示言語の切り替え（English / 日本語）"),
        palette=False),
    Key("monitor", "w", "wrap_log", "wrap", t("Wrap", "折り返し"),
        t("Wrap long log lines (or not) to read them whole", "長いログ行を折り返して全体を表示（切り替え）"),
        show=False, palette=False),
    Key("monitor", "end", "log_end", "log-end", t("Log end", "ログ末尾"),
        t("Follow the log's tail again", "ログの末尾の追従に戻る"), show=False, palette=False),
    Key("watch", "enter", "open", "watch-open", t("Monitor", "モニター"),
        t("Open the selected server's monitor", "選んだサーバーのモニターを開く"),
        display="Enter", palette=False),
    Key("watch", "escape", "back", "watch-back", t("Back", "戻る"),
        t("Back (stop watching)", "戻る（監視をやめる）"), display="Esc", palette=False),
    Key("watch", "f9", "app.toggle_lang", "lang", t("日本語/EN", "English/日本語"),
        t("Switch the language (English / 日本語)", "表示言語の切り替え（English / 日本語）"),
        palette=False),
)  # fmt: skip

NOTES: tuple[tuple[str, Text], ...] = (
    ("Tab / Shift+Tab", t("Move between fields", "項目間の移動")),
    ("Esc", t("Back / close a dialog", "戻る / ダイアログを閉じる")),
)
"""Keys Textual provides that F1 should still explain."""


def bindings(scope: str, lang: str = "en") -> list[BindingType]:
    """The Textual bindings of one scope (a screen's include the app's), labelled in `lang`."""
    return [
        Binding(
            k.key,
            k.action,
            k.label.get(lang),
            show=k.show,
            priority=k.priority,
            id=k.id,
            tooltip=k.tooltip.get(lang),
        )
        for k in KEYS
        if k.scope == scope or (k.scope == "app" and scope != "app")
    ]


def help_rows(lang: str) -> list[tuple[str, str]]:
    """(key, what it does) for F1: every binding once, then Textual's own keys."""
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []
    for k in KEYS:
        if k.id in seen:
            continue
        seen.add(k.id)
        rows.append((k.shown_key, k.tooltip.get(lang)))
    rows += [(key, text.get(lang)) for key, text in NOTES]
    return rows


def palette_entries(lang: str) -> Iterable[tuple[str, str, str]]:
    """(title, help, action) for the command palette."""
    seen: set[str] = set()
    for k in KEYS:
        if not k.palette or k.id in seen:
            continue
        seen.add(k.id)
        yield k.label.get(lang), f"{k.tooltip.get(lang)} ({k.shown_key})", k.action


def apply_language(node: DOMNode, scope: str, lang: str) -> None:
    """Relabel a screen's bindings in `lang`; the footer follows."""
    # Textual builds `_bindings` once from BINDINGS; replacing it is the only way to change
    # the labels the footer shows without recreating the screen.
    node._bindings = BindingsMap(bindings(scope, lang))
    node.refresh_bindings()
