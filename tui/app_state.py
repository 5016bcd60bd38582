"""The app's state, declared in one place: what the screens render (typed reactives with
what each one means) and the two language helpers. `VllmTuiApp` (tui.app) adds behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.reactive import reactive

from tui.bindings import bindings
from tui.core.catalog import Text
from tui.core.config import ServeConfig
from tui.core.runstate import RunState

if TYPE_CHECKING:
    from tui.adapters.gpus import GpuSnapshot
    from tui.core.model_facts import ModelFacts

DEFAULT_MODEL = "Qwen/Qwen3-8B"


class AppState(App[int]):
    """Reactive state only (no behaviour)."""

    TITLE = "vllm-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = bindings("app")

    config: reactive[ServeConfig] = reactive(lambda: ServeConfig(DEFAULT_MODEL), repaint=False)
    """What `vllm serve` will run."""
    facts: reactive[ModelFacts | None] = reactive(None)
    model_error: reactive[str | None] = reactive(None)
    model_loading: reactive[bool] = reactive(False)
    snapshot: reactive[GpuSnapshot | None] = reactive(None)
    """Detected GPUs (None until the first probe)."""
    chosen: reactive[tuple[str, ...]] = reactive(())
    """GPU keys vLLM gets (empty = all visible)."""
    planning_gpu: reactive[str] = reactive("H100 80GB")
    planning_count: reactive[int] = reactive(0)
    """GPUs in the planned box, per node (0 = as many as TP x PP x DP needs)."""
    planning_nodes: reactive[int] = reactive(1)
    """Nodes in the planned cluster (1 = one machine; more plans a Ray cluster)."""
    lang: reactive[str] = reactive("en")
    install: reactive[Any] = reactive(None, bindings=True)
    """The vLLM to launch (None = planning only)."""
    known_options: reactive[frozenset[str] | None] = reactive(None)
    extra_options: reactive[tuple[dict[str, Any], ...]] = reactive(())
    run_state: reactive[RunState] = reactive(RunState, bindings=True)
    """The state of the session's run (mirrors `session.state`, for bindings and watchers)."""
    cached_models: reactive[tuple[str, ...]] = reactive(())

    def t(self, en: str, ja: str) -> str:
        """A string in the current language."""
        return ja if self.lang == "ja" else en

    def say(self, text: Text | str, severity: str = "information", timeout: float = 5) -> None:
        """Notify in the current language."""
        message = text.get(self.lang) if isinstance(text, Text) else text
        self.notify(message, severity=severity, timeout=timeout)  # type: ignore[arg-type]


def size_classes(app: App[Any]) -> dict[str, bool]:
    """The breakpoint classes (`-wide`, `-short`…) a screen of the app's size gets, worked out
    as Textual does on its first Resize. A screen that takes them before its widgets are
    styled is laid out once: taken on that Resize, after the first frame, they restyled every
    widget and moved the columns already drawn. (The app's breakpoints: no screen of ours
    declares its own.)"""
    width, height = app.size
    classes: dict[str, bool] = {}
    for size, points in (
        (width, app.HORIZONTAL_BREAKPOINTS or []),
        (height, app.VERTICAL_BREAKPOINTS or []),
    ):
        names = [name for _, name in points]
        chosen = next((name for at, name in sorted(points, reverse=True) if size >= at), None)
        classes.update({name: name == chosen for name in names})
    return classes
