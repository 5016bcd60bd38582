"""Merge the curated catalog with every option of the installed vLLM, and check a config's
flags against what that vLLM accepts (with the nearest known flag as a suggestion)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.catalog import CATALOG, FlagSpec, normalise_option
from tui.core.config import ServeConfig
from tui.core.values import is_number

#: Flags vLLM renamed or dropped, with what replaced them (newest first).
RENAMED: Mapping[str, str] = {
    "--swap-space": "(removed; the V1 engine recomputes instead of swapping)",
    "--disable-log-requests": "--enable-log-requests (logging requests is now opt-in)",
    "--max-seq-len-to-capture": "--max-cudagraph-capture-size (via --compilation-config)",
    "--guided-decoding-backend": "--structured-outputs-config.backend",
    "--rope-scaling": "--hf-overrides '{\"rope_scaling\": {...}}'",
    "--rope-theta": "--hf-overrides '{\"rope_theta\": ...}'",
    "--use-v2-block-manager": "(removed; always on)",
    "--num-scheduler-steps": "(removed with the V0 engine)",
    "--preemption-mode": "(removed with the V0 engine)",
    "--device": "(removed; the platform is detected)",
    "--task": "--runner / --convert",
    "--worker-use-ray": "--distributed-executor-backend ray",
    "--engine-use-ray": "(removed)",
}


@dataclass(frozen=True)
class MergedFlag:
    """One flag as the app lists it: curated help when we have it, vLLM's own otherwise."""

    flag: str
    names: tuple[str, ...]
    dest: str
    group: str
    help: str
    help_ja: str | None
    kind: str | None
    default: Any
    choices: tuple[Any, ...] | None
    source: str
    """"curated+vllm" (both), "curated" (vLLM does not know it), or "vllm" (vLLM only)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "names": list(self.names),
            "dest": self.dest,
            "group": self.group,
            "help": self.help,
            "help_ja": self.help_ja,
            "kind": self.kind,
            "default": self.default,
            "choices": list(self.choices) if self.choices else None,
            "source": self.source,
        }


def _long_name(names: Sequence[str]) -> str:
    longs = [n for n in names if n.startswith("--") and not n.startswith("--no-")]
    return longs[0] if longs else names[0]


def merge(options: Sequence[Mapping[str, Any]], lang: str = "en") -> list[MergedFlag]:
    """Every option of the installed vLLM (curated help wins), then curated flags it lacks."""
    curated: dict[str, FlagSpec] = {s.flag: s for s in CATALOG if s.flag}
    out: list[MergedFlag] = []
    seen: set[str] = set()
    for o in options:
        names = tuple(o.get("names") or ())
        if not names:
            continue
        flag = _long_name(names)
        seen.add(flag)
        spec = curated.get(flag)
        if spec is not None:
            out.append(
                MergedFlag(
                    flag,
                    names,
                    spec.dest,
                    o.get("group") or spec.group,
                    spec.details.en,
                    spec.details.ja,
                    spec.kind,
                    o.get("default"),
                    tuple(o["choices"]) if o.get("choices") else (spec.choices or None),
                    "curated+vllm",
                )  # fmt: skip
            )
        else:
            out.append(
                MergedFlag(
                    flag,
                    names,
                    str(o.get("dest") or flag[2:].replace("-", "_")),
                    o.get("group") or "other",
                    str(o.get("help") or ""),
                    None,
                    o.get("type"),
                    o.get("default"),
                    tuple(o["choices"]) if o.get("choices") else None,
                    "vllm",
                )  # fmt: skip
            )
    for flag, spec in curated.items():
        if flag not in seen:
            out.append(
                MergedFlag(
                    flag,
                    spec.option_names,
                    spec.dest,
                    spec.group,
                    spec.details.en,
                    spec.details.ja,
                    spec.kind,
                    spec.default,
                    spec.choices or None,
                    "curated",
                )
            )
    return out


def known_names(options: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(n for o in options for n in (o.get("names") or ()))


def suggest(flag: str, known: Iterable[str]) -> str | None:
    """The replacement for a renamed flag, else the closest flag the installed vLLM knows."""
    flag = normalise_option(flag)
    if flag in RENAMED and RENAMED[flag] != flag:
        return RENAMED[flag]
    close = difflib.get_close_matches(
        flag, [k for k in known if k.startswith("--")], n=1, cutoff=0.75
    )
    return close[0] if close else None


@dataclass(frozen=True)
class UnknownFlag:
    flag: str
    suggestion: str | None
    source: str
    """"catalog" (a modelled flag) or "passthrough" (kept verbatim from an import)."""


def unknown_flags(cfg: ServeConfig, known: frozenset[str]) -> list[UnknownFlag]:
    """Flags in `cfg` (set values and passthrough) that the installed vLLM does not accept."""
    out: list[UnknownFlag] = []
    for spec in CATALOG:
        if spec.flag and cfg.is_set(spec.dest) and spec.flag not in known:
            out.append(UnknownFlag(spec.flag, suggest(spec.flag, known), "catalog"))
    for tok in cfg.passthrough:
        if tok.startswith("-") and not is_number(tok):
            name = normalise_option(tok.split("=", 1)[0])
            if name not in known:
                out.append(UnknownFlag(name, suggest(name, known), "passthrough"))
    return out
