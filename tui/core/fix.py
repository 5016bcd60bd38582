"""One shape for "a fix": flag values to set, environment to set, a bilingual label.

Validation findings, log diagnoses and the UI's one-key fixes all use this type, so a fix
found anywhere can be shown, applied and serialised the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.core.catalog.spec import Text
from tui.core.config import ServeConfig


@dataclass(frozen=True)
class Fix:
    """A concrete change: flag values to set (None = unset) and environment to add."""

    label: Text
    set: tuple[tuple[str, Any], ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    def apply(self, cfg: ServeConfig) -> ServeConfig:
        new = cfg.update(dict(self.set))
        if self.env:
            new = new.with_env(dict(new.env) | dict(self.env))
        return new

    def as_json(self) -> dict[str, Any]:
        return {
            "label": {"en": self.label.en, "ja": self.label.ja},
            "set": dict(self.set),
            "env": dict(self.env),
        }

    def describe(self) -> str:
        """Human text of what it changes, e.g. "--port 18234, VLLM_X=1" (never a dict)."""
        parts = [
            f"--{k.replace('_', '-')} {v}" if v is not None else f"unset --{k.replace('_', '-')}"
            for k, v in self.set
        ]
        parts += [f"{k}={v}" for k, v in self.env]
        return ", ".join(parts)
