"""FlagForm: the catalog as a form (the guide's flags first, then by group), a search box,
and every other flag of the installed vLLM (found by searching, kept as passthrough)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Static, Switch

from tui.core.catalog import GROUPS, ordered
from tui.core.config import ServeConfig
from tui.messages import ExtraFlagChanged, FlagFocused
from tui.widgets.flag_field import FlagField

MAX_EXTRA = 30


class ExtraFlag(Horizontal):
    """A flag of the installed vLLM that the catalog does not model."""

    DEFAULT_CSS = """
    ExtraFlag { height: auto; padding-left: 1; }
    ExtraFlag .flag-name { width: 30; padding: 0 1 0 0; }
    ExtraFlag Input { width: 1fr; background: $boost; }
    """

    def __init__(self, option: Mapping[str, Any], value: str | bool | None) -> None:
        super().__init__()
        self.option = option
        self.flag = next(
            (n for n in option["names"] if n.startswith("--") and not n.startswith("--no-")),
            option["names"][0],
        )
        self.value = value
        self.takes_no_value = option.get("nargs") == "0" or option.get("action") in (
            "_StoreTrueAction",
            "BooleanOptionalAction",
        )

    def compose(self) -> ComposeResult:
        yield Label(self.flag, classes="flag-name")
        if self.takes_no_value:
            yield Switch(value=bool(self.value))
        else:
            yield Input(
                value="" if self.value in (None, True, False) else str(self.value),
                placeholder=f"default: {self.option.get('default')}",
                compact=True,
            )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(ExtraFlagChanged(self.flag, event.value.strip() or None))

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.post_message(ExtraFlagChanged(self.flag, True if event.value else None))

    def on_descendant_focus(self, event: Any) -> None:
        self.post_message(FlagFocused(None, self.flag))


class FlagForm(Vertical):
    DEFAULT_CSS = """
    FlagForm { height: 1fr; border: round $primary 40%; border-title-color: $primary; }
    FlagForm #flag-search { margin: 0 1; background: $boost; }
    FlagForm .group-title { color: $secondary; text-style: bold; padding: 1 1 0 1; }
    FlagForm #extra-hint { color: $text-muted; padding: 1 1; }
    """

    config: reactive[ServeConfig | None] = reactive(None, init=False)
    lang: reactive[str] = reactive("en", init=False)
    extra_options: reactive[tuple[Mapping[str, Any], ...]] = reactive((), init=False)
    """Every option of the installed vLLM (empty until introspected)."""
    vllm_label: reactive[str] = reactive("", init=False)

    def __init__(self, config: ServeConfig, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(FlagForm.config, config)
        self.set_reactive(FlagForm.lang, lang)

    def compose(self) -> ComposeResult:
        self.border_title = "Flags  (★ = in your guide)"
        yield Input(
            placeholder="/ search flags (name or help, English/日本語)",
            id="flag-search",
            compact=True,
        )
        with VerticalScroll(id="flag-scroll"):
            yield from self._rows(seed=True)
            yield Static(self._extra_hint(), id="extra-hint")
            yield Vertical(id="extra-flags")

    def _rows(self, seed: bool) -> list[Widget]:
        """Group titles and fields: the guide's flags (seed=True) or all the others."""
        cfg = self.config
        assert cfg is not None
        titles = {k: (en if self.lang == "en" else ja) for k, en, ja in GROUPS}
        rows: list[Widget] = []
        current = None
        for spec in ordered():
            if spec.seed != seed:
                continue
            heading = (
                ("Your guide's flags" if self.lang == "en" else "ガイドのフラグ")
                if spec.seed
                else titles.get(spec.group, spec.group)
            )
            if heading != current:
                current = heading
                rows.append(Label(heading, classes="group-title"))
            rows.append(FlagField(spec, cfg.get(spec.dest), self.lang, cfg.is_set(spec.dest)))
        return rows

    def on_mount(self) -> None:
        # The other groups are mounted right after the first frame: a faster start, same form.
        self.call_after_refresh(self._mount_rest)

    async def _mount_rest(self) -> None:
        scroll = self.query_one("#flag-scroll", VerticalScroll)
        await scroll.mount_all(self._rows(seed=False), before=self.query_one("#extra-hint"))
        search = self.query_one("#flag-search", Input).value
        if search:
            await self.apply_search(search)

    def _extra_hint(self) -> str:
        if not self.extra_options:
            return (
                "Other flags of your vLLM appear here when one is installed (type to search them)."
            )
        return f"{len(self.extra_options)} more flags of {self.vllm_label}: type in the search box to find them."

    def watch_extra_options(self) -> None:
        if self.is_mounted:
            self.query_one("#extra-hint", Static).update(self._extra_hint())

    def watch_config(self, old: ServeConfig | None, cfg: ServeConfig | None) -> None:
        if cfg is None or not self.is_mounted:
            return
        # Touch only the fields whose value changed: restyling every field on each keystroke
        # is what makes a form feel slow.
        before = dict(old.values) if old is not None else {}
        after = dict(cfg.values)
        changed = {
            d for d in before.keys() | after.keys() if before.get(d, ...) != after.get(d, ...)
        }
        for dest in changed:
            try:
                field = self.query_one(f"#field-{dest}", FlagField)
            except Exception:
                continue
            field.value = cfg.get(dest)
            field.set_class(cfg.is_set(dest), "-set")

    def watch_lang(self, lang: str) -> None:
        for field in self.query(FlagField):
            field.lang = lang

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "flag-search":
            return
        event.stop()
        await self.apply_search(event.value)

    async def apply_search(self, text: str) -> None:
        needle = text.strip().lower()
        for field in self.query(FlagField):
            s = field.spec
            hay = " ".join(
                [
                    s.flag or s.env or "",
                    s.dest,
                    s.summary.en,
                    s.summary.ja,
                    s.details.en,
                    s.details.ja,
                ]
            ).lower()
            field.display = not needle or needle in hay
        for title in self.query(".group-title"):
            title.display = not needle
        box = self.query_one("#extra-flags", Vertical)
        await box.remove_children()
        if len(needle) >= 2 and self.extra_options:
            curated = {f.spec.flag for f in self.query(FlagField)}
            hits = [
                o
                for o in self.extra_options
                if not curated.intersection(o["names"])
                and (
                    needle in " ".join(o["names"]).lower()
                    or needle in str(o.get("help", "")).lower()
                )
            ]
            values = passthrough_values(self.config.passthrough if self.config else ())
            await box.mount_all([ExtraFlag(o, values.get(o["names"][0])) for o in hits[:MAX_EXTRA]])


def passthrough_values(tokens: Sequence[str]) -> dict[str, str | bool]:
    """`--flag value --switch` -> {flag: value, switch: True}."""
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--"):
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                out[tok] = tokens[i + 1]
                i += 2
                continue
            out[tok] = True
        i += 1
    return out


def set_passthrough(tokens: Sequence[str], flag: str, value: str | bool | None) -> tuple[str, ...]:
    """Replace (or remove) `flag` in a passthrough token list."""
    values = passthrough_values(tokens)
    values.pop(flag, None)
    if value is not None and value is not False:
        values[flag] = value
    out: list[str] = []
    for f, v in values.items():
        out += [f] if v is True else [f, str(v)]
    return tuple(out)
