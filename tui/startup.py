"""What the app learns at start-up, off the event loop: GPUs, the vLLM to launch and its
options, a model's facts. Blocking functions that return the messages to post (the app's
thread workers are one line each)."""

from __future__ import annotations

from collections.abc import Iterator

from textual.message import Message

from tui.adapters.services import Services
from tui.core.errors import UserError
from tui.messages import GpusProbed, ModelResolved, OptionsFound, VllmFound


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
