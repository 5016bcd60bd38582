"""Named configs saved on disk (atomic writes, secrets never written).

A corrupt profile is reported (stderr and the error) and kept under a `.corrupt-<time>` name:
never silently dropped. Environment names matching *KEY*, *TOKEN*, *SECRET*, *PASSWORD*, *AUTH*
are treated as secrets: never saved, and dropped when an old profile holds them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tui.adapters.settings import atomic_write, config_dir, quarantine
from tui.core.bounds import check_serve_bounds
from tui.core.catalog import BY_DEST, CATALOG
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.schema import check_profile, loads_json

SECRETS = {s.dest for s in CATALOG if s.secret}
SECRET_ENV_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "PASSWD", "CREDENTIAL")
MAX_PROFILE_BYTES = 1024 * 1024
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
        "env": {k: v for k, v in cfg.env if not is_secret_env(k)},
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


def is_secret_env(name: str) -> bool:
    """Environment names that look like credentials are never written to a profile."""
    upper = name.upper()
    return any(word in upper for word in SECRET_ENV_WORDS)


def load_profile(name: str) -> ServeConfig:
    """The saved config. A file with wrong types is quarantined (UserError naming it); a value
    for a flag this catalog does not know is kept as a passthrough `--flag value`, so the checks
    report it against the installed vLLM instead of the profile being thrown away."""
    path = _path(name)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"no profile named {name!r}") from None
    except OSError as exc:
        raise UserError(f"profile {name!r}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = check_profile(loads_json(raw, str(path)), str(path))
        cfg = _build(data)
    except UserError as exc:
        reason = exc.message.removeprefix(str(path)).lstrip(": ")
        kept = quarantine(path, reason)
        raise UserError(f"profile {name!r} is unusable ({reason}); kept as {kept.name}") from None
    return cfg


def _build(data: dict[str, Any]) -> ServeConfig:
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise UserError("field 'values' must be an object")
    known = {k: v for k, v in values.items() if k in BY_DEST and k not in SECRETS}
    extra: list[str] = []
    for dest, value in values.items():
        if dest in BY_DEST or dest in SECRETS or value is None or value is False:
            continue
        flag = "--" + str(dest).replace("_", "-")
        if value is True:
            extra.append(flag)
        elif isinstance(value, list):
            extra += [flag, *(str(v) for v in value)]
        else:
            extra += [flag, str(value)]
    env = data.get("env") or {}
    cfg = ServeConfig.build(
        data["model"],
        known,
        passthrough=[*(data.get("passthrough") or []), *extra],
        env={str(k): str(v) for k, v in env.items() if not is_secret_env(str(k))},
        cuda_visible_devices=data.get("cuda_visible_devices"),
    )
    check_serve_bounds(dict(cfg.values), BY_DEST)
    return cfg
