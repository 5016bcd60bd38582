"""Look up on disk the local paths a config names (see tui.core.local_paths)."""

from __future__ import annotations

import os

from tui.core.config import ServeConfig
from tui.core.local_paths import FLAG_OF, local_paths


def missing_local_paths(cfg: ServeConfig) -> tuple[tuple[str, str], ...]:
    """(dest, path) for each local path in `cfg` that does not exist here."""
    return tuple(
        (dest, path)
        for dest, path in local_paths(cfg)
        if not os.path.exists(os.path.expanduser(path))
    )


def describe_missing(missing: tuple[tuple[str, str], ...]) -> str:
    """One line naming each missing path with its flag."""
    return "; ".join(
        f"{FLAG_OF.get(dest, dest)} {path}: no such file or folder" for dest, path in missing
    )
