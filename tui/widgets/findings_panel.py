"""FindingsPanel: validation findings beside the form; Enter on one applies its fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.core.catalog import t
from tui.messages import ApplyFix

if TYPE_CHECKING:  # the checks load after the first frame, with the first plan
    from tui.core.validate import Finding

ICONS = {"error": ("✗", "$error"), "warning": ("!", "$warning"), "info": ("i", "$secondary")}


class FindingsPanel(OptionList):
    DEFAULT_CSS = """
    FindingsPanel { height: auto; max-height: 12; border: round $primary 40%; border-title-color: $primary; }
    FindingsPanel.-empty { max-height: 3; }
    FindingsPanel:focus { border: round $accent; }
    FindingsPanel:focus > .option-list--option-highlighted { background: $accent 40%; }
    """

    findings: reactive[tuple[Finding, ...]] = reactive(())
    lang: reactive[str] = reactive("en")
    checked: reactive[bool] = reactive(False)
    """False until the first checks arrive (after the first frame): the panel then says it is
    checking, never "no problems found" for checks that have not run."""

    def watch_checked(self) -> None:
        self._rebuild()

    def watch_findings(self) -> None:
        self._rebuild()

    def watch_lang(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear_options()
        fixable = sum(1 for f in self.findings if f.fix)
        self.border_title = t("Checks", "チェック").get(self.lang) + (
            t(
                f" · Enter/Ctrl+F applies a fix ({fixable})",
                f" · Enter/Ctrl+F で修正を適用（{fixable} 件）",
            ).get(self.lang)
            if fixable
            else ""
        )
        self.set_class(not self.findings, "-empty")
        if not self.checked:
            self.add_option(
                Option(
                    Content.styled(t("checking…", "確認中…").get(self.lang), "$text-muted"),
                    disabled=True,
                )
            )
            return
        if not self.findings:
            self.add_option(
                Option(
                    Content.styled(
                        "✓ no problems found" if self.lang == "en" else "✓ 問題はありません",
                        "$success",
                    ),
                    disabled=True,
                )
            )
            return
        for i, f in enumerate(self.findings):
            icon, style = ICONS[f.level]
            parts: list[str | tuple[str, str]] = [
                (f"{icon} ", f"bold {style}"),
                f.message.get(self.lang),
            ]
            if f.fix:
                parts += ["\n  ", ("→ " + f.fix.label.get(self.lang), "$accent")]
            self.add_option(
                Option(Content.assemble(*parts), id=f"finding-{i}", disabled=f.fix is None)
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.apply(event.option_index)

    def apply(self, index: int = 0) -> bool:
        fixable = [f for f in self.findings if f.fix]
        target = self.findings[index] if 0 <= index < len(self.findings) else None
        if target is None or target.fix is None:
            target = fixable[0] if fixable else None
        if target is None or target.fix is None:
            return False
        self.post_message(ApplyFix(dict(target.fix.set), dict(target.fix.env)))
        return True
