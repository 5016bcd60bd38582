"""ErrorPanel: the root cause of a failure (or a warning the server went on after), what it
means, and a one-key fix + relaunch."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Button, Static

from tui.core.diagnose import Diagnosis
from tui.messages import ApplyFix


def fix_changes(fix: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(flag changes, env changes) of a diagnosis's fix: a `Fix` or the older dict shape."""
    if not fix:
        return {}, {}
    if isinstance(fix, dict):
        return {k: v for k, v in fix.items() if k != "env"}, dict(fix.get("env") or {})
    return dict(getattr(fix, "set", ())), dict(getattr(fix, "env", ()))


class ErrorPanel(Vertical):
    DEFAULT_CSS = """
    ErrorPanel { height: auto; border: round $error; border-title-color: $error; padding: 0 1; display: none; }
    ErrorPanel.-shown { display: block; }
    ErrorPanel.-warning { border: round $warning; border-title-color: $warning; }
    ErrorPanel Horizontal { height: auto; }
    ErrorPanel Button { margin-right: 2; }
    """

    diagnosis: reactive[Diagnosis | None] = reactive(None)
    warning: reactive[bool] = reactive(False)
    """The server went on: this is shown as a warning, not as the failure."""
    failed: reactive[bool] = reactive(False)
    exit_code: reactive[int | None] = reactive(None)

    def __init__(self, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def tr(self, en: str, ja: str) -> str:
        return ja if self.lang == "ja" else en

    def compose(self) -> ComposeResult:
        yield Static("", id="error-body")
        with Horizontal():
            yield Button(
                self.tr("Apply fix and relaunch (F8)", "修正して再起動 (F8)"),
                variant="error",
                id="fix-relaunch",
            )
            yield Button(
                self.tr("Apply fix, back to configure", "修正して設定へ戻る"), id="fix-only"
            )

    def show(
        self, diag: Diagnosis | None, *, warning: bool, failed: bool, exit_code: int | None
    ) -> None:
        self.diagnosis, self.warning, self.failed, self.exit_code = diag, warning, failed, exit_code

    def watch_diagnosis(self) -> None:
        self._render_body()

    def watch_warning(self) -> None:
        self._render_body()

    def watch_failed(self) -> None:
        self._render_body()

    def _render_body(self) -> None:
        diag = self.diagnosis
        shown = diag is not None or self.failed
        self.set_class(shown, "-shown")
        self.set_class(self.warning, "-warning")
        if not self.is_mounted or not shown:
            return
        self.border_title = (
            self.tr("Warning (the server goes on)", "警告（サーバーは続行中）")
            if self.warning
            else self.tr("What went wrong", "失敗の原因")
        )
        if diag is None:
            code = "?" if self.exit_code is None else str(self.exit_code)
            body = Content.assemble(
                (self.tr("the server exited", "サーバーが終了しました"), "bold $error"),
                f" (code {code})\n",
                self.tr(
                    "No known cause in the log: read its last lines (End).",
                    "ログに既知の原因がありません: 最後の行を確認してください (End)。",
                ),
            )
        else:
            style = "bold $warning" if self.warning else "bold $error"
            parts: list[str | tuple[str, str]] = [
                (diag.kind.replace("_", " "), style),
                "\n",
                (diag.message[:400], "$text-muted"),
                "\n\n",
                diag.explanation,
            ]
            if diag.suggestion:
                parts += ["\n", (self.tr("Try: ", "対処: "), "bold"), (diag.suggestion, "$success")]
            body = Content.assemble(*parts)
        self.query_one("#error-body", Static).update(body)
        has_fix = diag is not None and bool(diag.fix)
        self.query_one("#fix-relaunch", Button).display = has_fix
        self.query_one("#fix-only", Button).display = has_fix

    def apply(self, relaunch: bool) -> bool:
        diag = self.diagnosis
        if diag is None or not diag.fix:
            return False
        changes, env = fix_changes(diag.fix)
        self.post_message(ApplyFix(changes, env, relaunch=relaunch))
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.apply(relaunch=event.button.id == "fix-relaunch")
