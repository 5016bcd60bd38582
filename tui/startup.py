"""How the app is built (`make_app`) and what it learns at start-up, off the event loop: GPUs,
the vLLM to launch and its options, a model's facts. Blocking functions that return the
messages to post (the app's thread workers are one line each); they run after the first
frame (`VllmTuiApp.on_ready`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tui.core.errors import UserError
from tui.messages import GpusProbed, ModelResolved, OptionsFound, VllmFound

if TYPE_CHECKING:
    from textual.message import Message
    from textual.screen import Screen

    from tui.adapters.services import Services
    from tui.app import VllmTuiApp


def make_app(
    *,
    services: Services | None = None,
    demo: bool = False,
    lang: str = "en",
    vllm: str | None = None,
    model: str | None = None,
    attach: str | None = None,
    watch: tuple[str, ...] = (),
    watch_key: str | None = None,
) -> VllmTuiApp:
    """The one way the app is built (CLI, tests, demo, screenshots); also `tui.app.make_app`."""
    from tui.app import VllmTuiApp

    _freeze_imports()
    if services is None:
        from tui.adapters.services import Services

        services = Services.demo_services() if demo else Services.real(vllm)
    if model is None and not demo:
        from tui.adapters.settings import load_settings

        model = load_settings().last_model
    return VllmTuiApp(
        services, lang=lang, model=model, attach=attach, vllm=vllm, watch=watch, watch_key=watch_key
    )


_frozen = False


def _freeze_imports() -> None:
    """Once per process: what the imports built (modules, classes, the flag catalog) lives as
    long as the process, so the cyclic GC stops scanning it. Otherwise the first full
    collection falls inside the first frame (about 20 ms over all those objects)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def first_screen() -> Screen[Any]:
    """The configure screen (it takes the size classes before its widgets are styled)."""
    from tui.screens.configure import ConfigureScreen

    return ConfigureScreen()


def first_frame_drawn() -> None:
    """Collection resumes (paused by the app's command for start-up: tui.gc_pause)."""
    from tui import gc_pause

    gc_pause.resume()


def probe(services: Services) -> GpusProbed:
    return GpusProbed(services.probe(), tuple(services.cached_models()))


def find_vllm(services: Services) -> Iterator[Message]:
    try:
        install = services.find_vllm()
    except UserError as exc:
        yield VllmFound(None, exc.message)
        return
    yield VllmFound(install)
    if install is not None and services.introspect is not None:
        from tui.adapters.introspect import dump_options

        options = dump_options(install)
        yield OptionsFound(frozenset(n for o in options for n in o["names"]), tuple(options))


def resolve(services: Services, ref: str) -> ModelResolved:
    try:
        return ModelResolved(ref, services.resolve_model(ref), None)
    except UserError as exc:
        return ModelResolved(ref, None, exc.message)


def adopt_vllm(python: str) -> VllmFound | None:
    """The vLLM an attached run used (remembered for the next start)."""
    from tui.adapters.vllm_env import resolve_vllm
    from tui.remember import vllm_path

    install = resolve_vllm(python)
    if install is None:
        return None
    vllm_path(python)
    return VllmFound(install)
