"""What the app remembers between sessions (settings.json): the last model, the vLLM an
attached run used, the planned GPU. Best effort: a settings file we cannot write is skipped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.Lock()
"""One read-modify-write at a time (workers of this process may remember concurrently)."""


def _update(change: Callable[[Any], bool]) -> None:
    from tui.adapters.settings import load_settings, save_settings

    with _LOCK:
        settings = load_settings()
        if settings.warning or not change(settings):
            return  # a damaged file is not overwritten; nothing changed
        try:
            save_settings(settings)
        except OSError:
            pass


def _field(name: str, value: Any) -> None:
    def change(s: Any) -> bool:
        changed = bool(getattr(s, name) != value)
        setattr(s, name, value)
        return changed

    _update(change)


def last_model(ref: str) -> None:
    _field("last_model", ref)


def vllm_path(path: str) -> None:
    _field("vllm_path", path)


def gpu_rows(rows: int) -> None:
    """A layout hint: clamped to what settings.json accepts, so it never damages the file."""
    from tui.core.schema import SETTINGS

    bounds = SETTINGS["gpu_rows"]
    _field("gpu_rows", max(int(bounds.lo or 0), min(rows, int(bounds.hi or rows))))


def planning_gpu(name: str, count: int, nodes: int = 1) -> None:
    def change(s: Any) -> bool:
        s.planning_gpu, s.planning_gpu_count, s.planning_nodes = name, count, nodes
        return True

    _update(change)
