"""Where the app keeps its files, and the small settings it remembers between runs.

Directories follow XDG: settings and profiles in $XDG_CONFIG_HOME/vllm-tui, runs (logs,
pidfiles) and caches in $XDG_STATE_HOME/vllm-tui. VLLM_TUI_HOME puts everything under one
folder (tests use it). Writes are atomic; a corrupt file is reported and kept aside, never
silently replaced.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


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
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def quarantine(path: Path) -> Path:
    """Keep a corrupt file aside (never delete it) and return where it went."""
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        os.replace(path, target)
    except OSError:
        return path
    return target


@dataclass
class Settings:
    planning_gpu: str = "H100 80GB"
    planning_gpu_count: int = 1
    vllm_path: str | None = None
    lang: str | None = None
    theme: str | None = None
    last_model: str | None = None
    warning: str | None = None
    """Set when the settings file was unreadable (the app shows it once)."""


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> Settings:
    path = settings_path()
    if not path.is_file():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except (OSError, ValueError, UnicodeDecodeError):
        kept = quarantine(path)
        return Settings(
            warning=f"settings file was unreadable; kept as {kept.name}, using defaults"
        )
    known = {f.name for f in fields(Settings)} - {"warning"}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    try:
        return Settings(**values)
    except TypeError:
        return Settings()


def save_settings(settings: Settings) -> None:
    data = {k: v for k, v in asdict(settings).items() if k != "warning"}
    atomic_write(settings_path(), json.dumps(data, indent=2) + "\n")
