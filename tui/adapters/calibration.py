"""Calibration records: what a real run measured (weights, activation, non-torch, CUDA graphs)
for a (GPU, model, vLLM version, memory-relevant flags) combination. A later estimate for the
same combination uses the measured terms instead of the modelled ones."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.adapters.settings import atomic_write, state_dir
from tui.core.catalog import CATALOG
from tui.core.config import ServeConfig
from tui.core.gpu_catalog import GiB


def memory_flags() -> tuple[str, ...]:
    """Flags whose value is part of a record's key: those the catalog declares `affects_memory`."""
    return tuple(s.dest for s in CATALOG if s.affects_memory)


TERMS = {
    "weights_gib": "weights",
    "activation_gib": "activation",
    "non_torch_gib": "non_torch",
    "cuda_graph_gib": "cuda_graph",
}


def key(gpu: str, cfg: ServeConfig, version: str | None) -> str:
    flags = {d: cfg.get(d) for d in memory_flags() if cfg.is_set(d)}
    raw = json.dumps([gpu, cfg.model, version, flags], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _path() -> Path:
    return state_dir() / "calibration.json"


_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


def _load() -> dict[str, Any]:
    """The records, re-read only when the file changed (the app looks them up per keystroke)."""
    path = _path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _CACHE.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    data = data if isinstance(data, dict) else {}
    _CACHE[str(path)] = (mtime, data)
    return data


def record(gpu: str, cfg: ServeConfig, version: str | None, memory: dict[str, float]) -> bool:
    """Store what a run reported (GiB); needs at least the weights and one overhead term."""
    measured = {TERMS[k]: v * GiB for k, v in memory.items() if k in TERMS}
    if "weights" not in measured or len(measured) < 2:
        return False
    with _locked():
        # Read fresh under the lock: two runs finishing together must not drop a record.
        _CACHE.pop(str(_path()), None)
        data = dict(_load())
        data[key(gpu, cfg, version)] = {
            "gpu": gpu,
            "model": cfg.model,
            "version": version,
            "measured": measured,
            "time": time.time(),
        }
        atomic_write(_path(), json.dumps(data, indent=1))
    return True


@contextmanager
def _locked() -> Iterator[None]:
    """An exclusive lock (a `.lock` file beside the store) around read-modify-write."""
    import fcntl

    lock = _path().with_name("calibration.json.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lookup(gpu: str, cfg: ServeConfig, version: str | None) -> dict[str, float]:
    entry = _load().get(key(gpu, cfg, version))
    return (
        dict(entry["measured"])
        if isinstance(entry, dict) and isinstance(entry.get("measured"), dict)
        else {}
    )
