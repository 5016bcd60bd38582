"""Command palette (Ctrl+P) entries "Jump to flag …": every catalog flag, and the installed
vLLM's other flags, by name or by what their help says."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.core.catalog import ordered, t


class FlagJumpProvider(Provider):
    def _lang(self) -> str:
        return str(getattr(self.app, "lang", "en"))

    def _entries(self) -> list[tuple[str, str, str]]:
        """(title, help, key) for every flag the form can show."""
        lang = self._lang()
        verb = t("Jump to flag", "フラグへ移動").get(lang)
        out = [(f"{verb} {s.flag or s.env}", s.summary.get(lang), s.dest) for s in ordered()]
        for option in getattr(self.app, "extra_options", ()):
            names = option.get("names", ())
            flag = next(
                (n for n in names if n.startswith("--") and not n.startswith("--no-")), None
            )
            if flag and not any(flag == f"{s.flag}" for s in ordered()):
                out.append((f"{verb} {flag}", str(option.get("help") or "")[:80], flag))
        return out

    def _jump(self, key: str) -> None:
        jump = getattr(self.screen, "jump_to_flag", None)
        if jump is not None:
            jump(key)

    async def discover(self) -> Hits:
        for title, help_text, key in self._entries()[:20]:
            yield DiscoveryHit(title, partial(self._jump, key), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, key in self._entries():
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._jump, key), help=help_text)
