"""Where the app keeps its files, and the small settings it remembers between runs.

Directories follow XDG: settings and profiles in $XDG_CONFIG_HOME/vllm-tui, runs (logs,
pidfiles) and caches in $XDG_STATE_HOME/vllm-tui. VLLM_TUI_HOME puts everything under one
folder (tests use it). Writes are atomic; a corrupt file is reported and kept aside, never
silently replaced.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tui.core.schema import SETTINGS, SchemaError, check, loads_json

MAX_SETTINGS_BYTES = 1024 * 1024


def _base(var: str, fallback: str) -> Path:
    home = os.environ.get("VLLM_TUI_HOME")
    if home:
        return Path(home).expanduser()
    root = os.environ.get(var) or os.path.join(os.path.expanduser("~"), fallback)
    return Path(root) / "vllm-tui"


def config_dir() -> Path:
    return _base("XDG_CONFIG_HOME", ".config")


def state_dir() -> Path:
    return _base("XDG_STATE_HOME", os.path.join(".local", "state"))


def runs_dir() -> Path:
    return state_dir() / "runs"


def cache_dir() -> Path:
    return state_dir() / "cache"


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Write via a temp file in the same folder + rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name, dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # the data is on disk before the name points at it
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: some filesystems refuse to open a folder)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def quarantine(path: Path, reason: str = "") -> Path:
    """Keep a corrupt file aside (never delete it), say so on stderr, return where it went."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    try:
        os.replace(path, target)
    except OSError:
        target = path
    why = f" ({reason})" if reason else ""
    kept = f"kept as {target}" if target != path else "left in place"
    print(f"vllm-tui: warning: {path} is unusable{why}; {kept}", file=sys.stderr)
    return target


@dataclass
class Settings:
    planning_gpu: str = "H100 80GB"
    planning_gpu_count: int = 1
    planning_nodes: int = 1
    """Nodes in the planned cluster (1 = one machine)."""
    vllm_path: str | None = None
    lang: str | None = None
    theme: str | None = None
    last_model: str | None = None
    gpu_rows: int | None = None
    """Rows the GPU panel took once its probe finished, at the last start: the first frame
    holds them while NVML is asked again, so the model and the form below do not move."""
    warning: str | None = None
    """Set when the settings file was unreadable (the app shows it once)."""


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> Settings:
    path = settings_path()
    if not path.is_file():
        return Settings()
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SETTINGS_BYTES + 1)
        data = check(loads_json(raw, str(path)), SETTINGS, str(path))
    except OSError as exc:
        return Settings(warning=f"settings file {path} is unreadable ({exc.strerror or exc})")
    except SchemaError as exc:
        kept = quarantine(path, exc.message.removeprefix(str(path)).lstrip(": "))
        return Settings(
            warning=f"settings file was unusable ({exc.message}); kept as {kept.name}, using defaults"
        )
    known = {f.name for f in fields(Settings)} - {"warning"}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    for key in ("planning_gpu_count", "planning_nodes", "gpu_rows"):
        if isinstance(values.get(key), float):
            values[key] = int(values[key])
    return Settings(**values)


def save_settings(settings: Settings) -> None:
    data = {k: v for k, v in asdict(settings).items() if k != "warning"}
    atomic_write(settings_path(), json.dumps(data, indent=2) + "\n")
