"""Validation: rules over a config (plus model facts and GPUs when known) giving findings.

A finding says what is wrong in English and Japanese, which flags it concerns, and, when one
exists, a concrete fix (a change to the config) that the UI can apply with one key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tui.core.catalog import CATALOG, FlagSpec, Text, t
from tui.core.config import ServeConfig
from tui.core.fix import Fix
from tui.core.gpu_catalog import GpuSpec
from tui.core.model_facts import ModelFacts

Level = Literal["error", "warning", "info"]
LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    flags: tuple[str, ...]
    message: Text
    fix: Fix | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "flags": list(self.flags),
            "message": {"en": self.message.en, "ja": self.message.ja},
            "fix": self.fix.as_json() if self.fix else None,
        }


@dataclass(frozen=True)
class Context:
    """What is known besides the config. Every field is optional."""

    facts: ModelFacts | None = None
    gpus: tuple[GpuSpec, ...] = ()
    """The GPUs vLLM will get (detected and chosen, or the planning GPU x count)."""
    num_gpus: int | None = None
    vllm_version: str | None = None
    port_in_use: bool | None = None
    known_options: frozenset[str] | None = None
    """Options the installed vLLM accepts (None = not introspected)."""
    extra: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[ServeConfig, Context], list[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def validate(cfg: ServeConfig, ctx: Context | None = None) -> list[Finding]:
    """All findings, errors first."""
    ctx = ctx or Context()
    out: list[Finding] = []
    for r in RULES:
        out += r(cfg, ctx)
    return sorted(out, key=lambda f: LEVEL_ORDER[f.level])


def _set(label: Text, **values: Any) -> Fix:
    return Fix(label, tuple(values.items()))


@rule
def _utilization(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    util = cfg.get("gpu_memory_utilization")
    if util is None or 0 < util <= 1:
        return []
    value = 0.9 if util > 1 else 0.5
    return [
        Finding(
            "error",
            "utilization-range",
            ("--gpu-memory-utilization",),
            t(
                f"--gpu-memory-utilization is a fraction of GPU memory in (0, 1]; {util:g} is outside it.",
                f"--gpu-memory-utilization は GPU メモリに対する (0, 1] の割合です。{util:g} は範囲外です。",
            ),
            _set(t(f"Set it to {value}", f"{value} に設定"), gpu_memory_utilization=value),
        )
    ]


@rule
def _ranges(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """Generic numeric bounds and closed choice lists from the catalog."""
    out = []
    for s in CATALOG:
        if s.dest == "gpu_memory_utilization" or not cfg.is_set(s.dest):
            continue
        value = cfg.get(s.dest)
        if s.kind in ("int", "float") and isinstance(value, int | float):
            if s.dest == "max_model_len" and value == -1:
                continue
            low_bad = s.minimum is not None and (
                value <= s.minimum if s.exclusive_minimum else value < s.minimum
            )
            high_bad = s.maximum is not None and value > s.maximum
            if low_bad or high_bad:
                bound = f">= {s.minimum:g}" if low_bad else f"<= {s.maximum:g}"
                fix_value = s.minimum if low_bad else s.maximum
                fix = (
                    _set(
                        t(f"Set {s.flag} to {fix_value:g}", f"{s.flag} を {fix_value:g} に設定"),
                        **{s.dest: fix_value},
                    )
                    if not s.exclusive_minimum
                    else None
                )
                out.append(
                    Finding(
                        "error",
                        "range",
                        (s.flag or s.dest,),
                        t(
                            f"{s.flag} must be {bound} (got {value:g}).",
                            f"{s.flag} は {bound} である必要があります（{value:g} が指定されています）。",
                        ),
                        fix,
                    )
                )
        if s.kind == "choice" and s.choices:
            out += _choice(s, value, None)
    return out


def _choice(s: FlagSpec, value: Any, installed: Sequence[str] | None) -> list[Finding]:
    """A value outside the choices: an error when the installed vLLM's own list (or the
    catalog's closed list) lacks it, or when an open list's value is clearly a typo ('fp'
    for 'fp8', '2fp8', a bare number); a plugin's method name passes."""
    choices: Sequence[Any] = installed if installed else s.choices
    if value in choices or str(value) in map(str, choices):
        return []
    nearest = _nearest_choice(choices, value)
    if not installed and s.open_choices:
        import difflib

        close = difflib.get_close_matches(str(value), list(map(str, choices)), n=1, cutoff=0.75)
        typo = bool(close) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", str(value))
        if not typo:
            return []
    allowed = ", ".join(map(str, choices))
    return [
        Finding(
            "error",
            "choice",
            (s.flag or s.dest,),
            t(
                f"{s.flag} {value} is not accepted by vLLM; allowed: {allowed}.",
                f"{s.flag} {value} は vLLM で使えません。使える値: {allowed}。",
            ),
            _set(t(f"Use {nearest}", f"{nearest} を使う"), **{s.dest: nearest})
            if nearest is not None
            else None,
        )
    ]


def port_findings(cfg: ServeConfig, free_port: int | None) -> list[Finding]:
    """The port-in-use error (with a free port as its fix) once the port was found busy."""
    from tui.core.validate_serving import _network

    ctx = Context(port_in_use=True, extra={"free_port": free_port} if free_port else {})
    return [f for f in _network(cfg, ctx) if f.code == "port-in-use"]


def choice_findings(cfg: ServeConfig, installed: Mapping[str, Sequence[str]]) -> list[Finding]:
    """Choice errors against the installed vLLM's own lists ({flag: choices})."""
    out: list[Finding] = []
    for s in CATALOG:
        if s.kind == "choice" and s.flag and cfg.is_set(s.dest) and s.flag in installed:
            out += _choice(s, cfg.get(s.dest), tuple(installed[s.flag]))
    return out


def _nearest_choice(choices: Sequence[Any], value: Any) -> Any:
    if all(isinstance(c, int) for c in choices) and isinstance(value, int):
        bigger = [c for c in choices if c >= value]
        return min(bigger) if bigger else max(choices)
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.5)
    if close:
        return close[0]
    inside = [str(c) for c in choices if str(value) and str(value) in str(c)]
    return min(inside, key=len) if inside else None


def valid_tp_sizes(facts: ModelFacts, limit: int | None) -> list[int]:
    """TP sizes vLLM accepts for this model: divide the attention heads (and KV heads rule)."""
    out = []
    for tp in range(1, (limit or facts.num_heads) + 1):
        if facts.num_heads % tp:
            continue
        kv = facts.num_kv_heads
        if not facts.is_mla and (kv % tp if kv >= tp else tp % kv):
            continue
        out.append(tp)
    return out


# The rule modules register with @rule when imported. The order of RULES is the order the
# rules were written in: this module's, then validate_model's, then validate_serving's.
# validate_model imports validate_serving at its own end, so the order holds whichever of
# the three modules is imported first.
from tui.core import validate_model as validate_model  # noqa: E402
