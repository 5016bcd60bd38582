"""ServeConfig: the model plus the flag values a user chose, as one immutable value.

A config only stores values that differ from the tool's defaults, so two configs that launch
the same server compare equal, and config -> argv/YAML -> config is the identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tui.core.catalog import BY_DEST, FlagSpec
from tui.core.errors import UserError
from tui.core.values import coerce


@dataclass(frozen=True)
class ServeConfig:
    """What `vllm serve` should run: model, chosen flag values, and what we pass through."""

    model: str
    values: tuple[tuple[str, Any], ...] = ()
    """(dest, value) pairs sorted by dest; only values that differ from the tool default."""
    passthrough: tuple[str, ...] = ()
    """Arguments we do not model (kept verbatim, appended to argv)."""
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment for the server (from an imported `VAR=x vllm serve` line)."""
    cuda_visible_devices: str | None = None
    """Which GPUs the server gets (None = inherit)."""
    _index: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise UserError("a model (HF id or local path) is required")
        object.__setattr__(self, "_index", dict(self.values))

    # -- reading -------------------------------------------------------------------------

    def get(self, dest: str) -> Any:
        """The effective value: what the user set, else this tool's default."""
        if dest in self._index:
            return self._index[dest]
        return BY_DEST[dest].effective_default

    def is_set(self, dest: str) -> bool:
        return dest in self._index

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    # -- changing (returns new configs) --------------------------------------------------

    def set(self, dest: str, raw: Any) -> ServeConfig:
        """New config with `dest` set from a raw value (typed-checked; default -> unset)."""
        spec = BY_DEST.get(dest)
        if spec is None:
            raise UserError(f"unknown setting {dest!r}")
        value = coerce(spec, raw)
        return self._with(spec, value)

    def unset(self, dest: str) -> ServeConfig:
        values = tuple((k, v) for k, v in self.values if k != dest)
        return replace(self, values=values)

    def update(self, changes: Mapping[str, Any]) -> ServeConfig:
        cfg = self
        for dest, raw in changes.items():
            cfg = cfg.unset(dest) if raw is None else cfg.set(dest, raw)
        return cfg

    def with_model(self, model: str) -> ServeConfig:
        return replace(self, model=model)

    def with_gpus(self, devices: str | None) -> ServeConfig:
        return replace(self, cuda_visible_devices=devices)

    def with_passthrough(self, args: Iterable[str]) -> ServeConfig:
        return replace(self, passthrough=tuple(args))

    def with_env(self, env: Mapping[str, str]) -> ServeConfig:
        return replace(self, env=tuple(sorted(env.items())))

    def _with(self, spec: FlagSpec, value: Any) -> ServeConfig:
        rest = {k: v for k, v in self.values if k != spec.dest}
        if value is not None and value != spec.effective_default:
            rest[spec.dest] = value
        return replace(self, values=tuple(sorted(rest.items())))

    @classmethod
    def build(
        cls,
        model: str,
        values: Mapping[str, Any] | None = None,
        *,
        passthrough: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        cuda_visible_devices: str | None = None,
    ) -> ServeConfig:
        cfg = cls(
            model=model, passthrough=tuple(passthrough), cuda_visible_devices=cuda_visible_devices
        )
        if env:
            cfg = cfg.with_env(env)
        return cfg.update(values or {})


SECRET_DESTS = tuple(spec.dest for spec in BY_DEST.values() if spec.secret)
MASK = "****"


def masked(cfg: ServeConfig) -> ServeConfig:
    """The same config with every secret value replaced by a mask (for profiles and display)."""
    values = tuple((k, MASK if k in SECRET_DESTS else v) for k, v in cfg.values)
    return replace(cfg, values=values)
