"""ErrorPanel: the root cause of a failure, what it means, and a one-key fix + relaunch."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Button, Static

from tui.core.diagnose import Diagnosis
from tui.messages import ApplyFix


class ErrorPanel(Vertical):
    DEFAULT_CSS = """
    ErrorPanel { height: auto; border: round $error; border-title-color: $error; padding: 0 1; display: none; }
    ErrorPanel.-shown { display: block; }
    ErrorPanel Horizontal { height: auto; }
    ErrorPanel Button { margin-right: 2; }
    """

    diagnosis: reactive[Diagnosis | None] = reactive(None)

    def compose(self) -> ComposeResult:
        self.border_title = "What went wrong"
        yield Static("", id="error-body")
        with Horizontal():
            yield Button("Apply fix and relaunch (F8)", variant="error", id="fix-relaunch")
            yield Button("Apply fix, back to configure", id="fix-only")

    def watch_diagnosis(self, diag: Diagnosis | None) -> None:
        self.set_class(diag is not None, "-shown")
        if not self.is_mounted or diag is None:
            return
        parts = [
            (diag.kind.replace("_", " "), "bold $error"),
            "\n",
            (diag.message[:400], "$text-muted"),
            "\n\n",
            diag.explanation,
        ]
        if diag.suggestion:
            parts += ["\n", ("Try: ", "bold"), (diag.suggestion, "$success")]
        self.query_one("#error-body", Static).update(Content.assemble(*parts))
        has_fix = bool(diag.fix)
        self.query_one("#fix-relaunch", Button).display = has_fix
        self.query_one("#fix-only", Button).display = has_fix

    def apply(self, relaunch: bool) -> bool:
        diag = self.diagnosis
        if diag is None or not diag.fix:
            return False
        self.post_message(ApplyFix(dict(diag.fix), relaunch=relaunch))
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.apply(relaunch=event.button.id == "fix-relaunch")
