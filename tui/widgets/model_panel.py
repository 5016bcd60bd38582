"""ModelPanel: the model to serve (HF id or local path, with suggestions from the built-in
catalog) and the facts found about it, with where they came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tui.core.catalog import t
from tui.messages import ModelSubmitted

if TYPE_CHECKING:  # the facts arrive after the first frame, and their modules with them
    from tui.core.model_facts import ModelFacts


class ModelSuggester(Suggester):
    """Models in the local HF cache first, then the built-in catalog (read on the first
    keystroke, not with the first frame). Textual asks a suggester about every value the
    field is given, so the panel attaches it when the field gets focus and holds it back
    while it sets the app's model: the model the app starts with would otherwise load the
    catalog inside the first frame for a suggestion nobody typed."""

    def __init__(self, cached: tuple[str, ...] = ()) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.cached = cached
        self._ids: list[str] | None = None

    def ids(self) -> list[str]:
        if self._ids is None:
            from tui.core.arch_catalog import ALIASES, CONFIGS

            builtin = sorted((set(CONFIGS) | set(ALIASES)) - set(self.cached))
            self._ids = list(self.cached) + builtin
        return self._ids

    async def get_suggestion(self, value: str) -> str | None:
        # `value` comes casefolded (case_sensitive=False); the suggestion keeps its case.
        return next((i for i in self.ids() if i.casefold().startswith(value)), None)


def count_text(n: float) -> str:
    """8.19B, 350M, 4.2K: small models must not read '0.00B'."""
    for scale, suffix, digits in ((1e9, "B", 2), (1e6, "M", 1), (1e3, "K", 1)):
        if n >= scale:
            return f"{n / scale:.{digits}f}{suffix}"
    return f"{n:.0f}"


def facts_text(facts: ModelFacts, lang: str = "en") -> str:
    from tui.core.weights import active_params, total_params

    def tr(en: str, ja: str) -> str:
        return t(en, ja).get(lang)

    parts = [
        tr(
            f"{count_text(total_params(facts))} params",
            f"パラメータ {count_text(total_params(facts))}",
        )
    ]
    if facts.is_moe:
        active = count_text(active_params(facts))
        parts[0] += tr(
            f" ({active} active, {facts.num_experts} experts)",
            f"（アクティブ {active}、エキスパート {facts.num_experts}）",
        )
    parts += [
        tr(f"{facts.num_layers} layers", f"{facts.num_layers} 層"),
        tr(
            f"{facts.num_heads} heads / {facts.num_kv_heads} KV",
            f"ヘッド {facts.num_heads} / KV {facts.num_kv_heads}",
        ),
    ]
    if facts.is_mla:
        parts.append(f"MLA latent {facts.kv_lora_rank}+{facts.qk_rope_head_dim}")
    if facts.num_sliding_layers:
        parts.append(
            tr(
                f"{facts.num_sliding_layers} sliding-window layers ({facts.sliding_window})",
                f"スライディングウィンドウ層 {facts.num_sliding_layers}（{facts.sliding_window}）",
            )
        )
    parts.append(
        tr(f"context {facts.derived_max_model_len:,}", f"文脈長 {facts.derived_max_model_len:,}")
    )
    parts.append(facts.quant.method if facts.quant else facts.torch_dtype)
    return (
        " · ".join(parts)
        + tr(f"\nfrom {facts.source}", f"\n出典: {facts.source}")
        + (
            tr(" · best-effort (unknown architecture)", " · 推定（未知のアーキテクチャ）")
            if facts.best_effort
            else ""
        )
    )


class ModelPanel(Vertical):
    DEFAULT_CSS = """
    ModelPanel { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    ModelPanel Input { background: $boost; margin-bottom: 0; }
    ModelPanel #facts { color: $text-muted; height: auto; min-height: 2; }  /* the facts and their source: held while they are looked up */
    ModelPanel.-error #facts { color: $error; }
    """

    model: reactive[str] = reactive("")
    cached: reactive[tuple[str, ...]] = reactive(())
    """Models in the local HF cache (suggested before the built-in catalog)."""
    facts: reactive[ModelFacts | None] = reactive(None)
    error: reactive[str | None] = reactive(None)
    resolving: reactive[bool] = reactive(False)
    """The model's facts are being looked up (not Textual's `loading`, which would cover the
    panel, field included, with a LoadingIndicator)."""
    lang: reactive[str] = reactive("en")

    def compose(self) -> ComposeResult:
        self.border_title = self._title()
        yield Input(
            value=self.model,
            placeholder="HF id (Qwen/Qwen3-8B) or /path/to/model",
            id="model-input",
            compact=True,
        )
        yield Static("", id="facts")

    def on_mount(self) -> None:
        self._refresh_facts()

    def watch_model(self, value: str) -> None:
        if self.is_mounted:
            field = self.query_one("#model-input", Input)
            if field.value != value:
                # The app's model, not typing: Textual would ask the suggester about it.
                suggester, field.suggester = field.suggester, None
                field.value = value
                field.suggester = suggester
            self._refresh_facts()

    def watch_cached(self) -> None:
        if self.is_mounted:
            field = self.query_one("#model-input", Input)
            if field.suggester is not None:
                field.suggester = self._suggester()
            self.border_title = self._title()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        field = self.query_one("#model-input", Input)
        if event.widget is field and field.suggester is None:
            field.suggester = self._suggester()

    def _suggester(self) -> ModelSuggester:
        return ModelSuggester(tuple(self.cached))

    def _title(self) -> str:
        if self.cached:
            return t(
                f"Model · {len(self.cached)} in your HF cache",
                f"モデル · HF キャッシュに {len(self.cached)} 個",
            ).get(self.lang)
        return t("Model", "モデル").get(self.lang)

    def watch_lang(self) -> None:
        if self.is_mounted:
            self.border_title = self._title()
            self._refresh_facts()

    def watch_facts(self) -> None:
        self._refresh_facts()

    def watch_error(self) -> None:
        self._refresh_facts()

    def watch_resolving(self) -> None:
        self._refresh_facts()

    def _refresh_facts(self) -> None:
        if not self.is_mounted:
            return
        self.set_class(self.error is not None, "-error")
        text = (
            t("resolving…", "調べています…").get(self.lang)
            if self.resolving
            else self.error or (facts_text(self.facts, self.lang) if self.facts else "")
        )
        typed = self.query_one("#model-input", Input).value.strip()
        if typed and typed != self.model and not self.resolving:
            text = (
                t(
                    f"Enter to apply (the facts below are still for {self.model})",
                    f"Enter で適用（下の情報はまだ {self.model} のものです）",
                ).get(self.lang)
                + "\n"
                + text
            )
        self.query_one("#facts", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh_facts()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(ModelSubmitted(event.value.strip()))

    def on_descendant_blur(self, event) -> None:  # type: ignore[no-untyped-def]
        value = self.query_one("#model-input", Input).value.strip()
        if value and value != self.model:
            self.post_message(ModelSubmitted(value))
