"""ModelPanel: the model to serve (HF id or local path, with suggestions from the built-in
catalog) and the facts found about it, with where they came from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from tui.core.arch_catalog import ALIASES, CONFIGS
from tui.core.model_facts import ModelFacts
from tui.core.weights import active_params, total_params
from tui.messages import ModelSubmitted


def facts_text(facts: ModelFacts) -> str:
    params = total_params(facts) / 1e9
    parts = [f"{params:.2f}B params"]
    if facts.is_moe:
        parts[0] += f" ({active_params(facts) / 1e9:.1f}B active, {facts.num_experts} experts)"
    parts += [f"{facts.num_layers} layers", f"{facts.num_heads} heads / {facts.num_kv_heads} KV"]
    if facts.is_mla:
        parts.append(f"MLA latent {facts.kv_lora_rank}+{facts.qk_rope_head_dim}")
    if facts.num_sliding_layers:
        parts.append(f"{facts.num_sliding_layers} sliding-window layers ({facts.sliding_window})")
    parts.append(f"context {facts.derived_max_model_len:,}")
    parts.append(facts.quant.method if facts.quant else facts.torch_dtype)
    return (
        " · ".join(parts)
        + f"\nfrom {facts.source}"
        + (" · best-effort (unknown architecture)" if facts.best_effort else "")
    )


class ModelPanel(Vertical):
    DEFAULT_CSS = """
    ModelPanel { height: auto; border: round $primary 40%; border-title-color: $primary; padding: 0 1; }
    ModelPanel Input { background: $boost; margin-bottom: 0; }
    ModelPanel #facts { color: $text-muted; height: auto; }
    ModelPanel.-error #facts { color: $error; }
    """

    model: reactive[str] = reactive("")
    cached: reactive[tuple[str, ...]] = reactive(())
    """Models in the local HF cache (suggested before the built-in catalog)."""
    facts: reactive[ModelFacts | None] = reactive(None)
    error: reactive[str | None] = reactive(None)
    loading: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        self.border_title = "Model"
        ids = sorted(set(CONFIGS) | set(ALIASES))
        yield Input(
            value=self.model,
            placeholder="HF id (Qwen/Qwen3-8B) or /path/to/model",
            suggester=SuggestFromList(ids, case_sensitive=False),
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
                field.value = value

    def watch_cached(self) -> None:
        if self.is_mounted:
            self.query_one("#model-input", Input).suggester = self._suggester()
            self.border_title = (
                f"Model · {len(self.cached)} in your HF cache" if self.cached else "Model"
            )

    def watch_facts(self) -> None:
        self._refresh_facts()

    def watch_error(self) -> None:
        self._refresh_facts()

    def watch_loading(self) -> None:
        self._refresh_facts()

    def _refresh_facts(self) -> None:
        if not self.is_mounted:
            return
        self.set_class(self.error is not None, "-error")
        text = (
            "resolving…"
            if self.loading
            else self.error or (facts_text(self.facts) if self.facts else "")
        )
        self.query_one("#facts", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(ModelSubmitted(event.value.strip()))

    def on_descendant_blur(self, event) -> None:  # type: ignore[no-untyped-def]
        value = self.query_one("#model-input", Input).value.strip()
        if value and value != self.model:
            self.post_message(ModelSubmitted(value))
