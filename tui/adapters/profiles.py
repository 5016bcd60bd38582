"""Named configs saved on disk (atomic writes, secrets never written).

A corrupt profile is reported and kept under a `.corrupt-<time>` name: never silently dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tui.adapters.settings import atomic_write, config_dir, quarantine
from tui.core.catalog import CATALOG
from tui.core.config import ServeConfig
from tui.core.errors import UserError

SECRETS = {s.dest for s in CATALOG if s.secret}
_NAME = re.compile(r"^[\w .-]{1,64}$")


def profiles_dir() -> Path:
    return config_dir() / "profiles"


def _path(name: str) -> Path:
    if not _NAME.match(name) or name.startswith("."):
        raise UserError(
            f"profile name {name!r}: use letters, digits, space, '.', '-' or '_' (max 64)"
        )
    return profiles_dir() / f"{name}.json"


def save_profile(name: str, cfg: ServeConfig) -> Path:
    data = {
        "model": cfg.model,
        "values": {
            k: list(v) if isinstance(v, tuple) else v for k, v in cfg.values if k not in SECRETS
        },
        "passthrough": list(cfg.passthrough),
        "env": {
            k: v
            for k, v in cfg.env
            if not any(w in k.upper() for w in ("TOKEN", "KEY", "SECRET", "PASSWORD"))
        },
        "cuda_visible_devices": cfg.cuda_visible_devices,
        "format": 1,
    }
    path = _path(name)
    atomic_write(path, json.dumps(data, indent=2) + "\n")
    return path


def list_profiles() -> list[str]:
    d = profiles_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.json"))


def load_profile(name: str) -> ServeConfig:
    path = _path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("model"), str):
            raise ValueError("not a profile")
        cfg = ServeConfig.build(
            data["model"],
            {k: v for k, v in (data.get("values") or {}).items() if k not in SECRETS},
            passthrough=[str(t) for t in data.get("passthrough") or []],
            env={str(k): str(v) for k, v in (data.get("env") or {}).items()},
            cuda_visible_devices=data.get("cuda_visible_devices"),
        )
    except FileNotFoundError:
        raise UserError(f"no profile named {name!r}") from None
    except (OSError, ValueError, TypeError, KeyError, UserError) as exc:
        kept = quarantine(path)
        raise UserError(f"profile {name!r} is unreadable ({exc}); kept as {kept.name}") from None
    return cfg
