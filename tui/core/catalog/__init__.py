"""The curated flag catalog: every flag of the user's guide plus the ones people reach for next.

Declared once, in the group modules; this module only indexes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from tui.core.catalog import debug, lora, memory, model, parallel, serving
from tui.core.catalog.spec import GROUPS, LANGS, FlagSpec, Text, VersionNote, t

CATALOG: tuple[FlagSpec, ...] = (
    *memory.FLAGS,
    *parallel.FLAGS,
    *lora.FLAGS,
    *serving.FLAGS,
    *model.FLAGS,
    *debug.FLAGS,
)

BY_DEST: dict[str, FlagSpec] = {spec.dest: spec for spec in CATALOG}
BY_OPTION: dict[str, FlagSpec] = {name: spec for spec in CATALOG for name in spec.option_names}
BY_ENV: dict[str, FlagSpec] = {spec.env: spec for spec in CATALOG if spec.env}

#: The 19 flags of the user's source guide, in the guide's order, then the hot-swap switch.
SEED_FLAGS: tuple[str, ...] = (
    "--gpu-memory-utilization",
    "--max-model-len",
    "--quantization",
    "--kv-cache-dtype",
    "--port",
    "--api-key",
    "--tensor-parallel-size",
    "--pipeline-parallel-size",
    "--enable-lora",
    "--max-loras",
    "--max-lora-rank",
    "--dtype",
    "--tokenizer",
    "--hf-token",
    "--swap-space",
    "--seed",
    "--disable-log-stats",
    "--enforce-eager",
    "--disable-cascade-attn",
)
SEED_ENV: tuple[str, ...] = ("VLLM_ALLOW_RUNTIME_LORA_UPDATING",)


def spec(dest: str) -> FlagSpec:
    """The catalog entry for a config key (KeyError if unknown)."""
    return BY_DEST[dest]


def lookup_option(option: str) -> tuple[FlagSpec, bool] | None:
    """Resolve `--flag`, `--flag_name`, `-tp`, `--no-flag` to (spec, negated)."""
    name = normalise_option(option)
    found = BY_OPTION.get(name)
    if found is None:
        return None
    negated = found.negatable and name == "--no-" + (found.flag or "")[2:]
    return found, negated


def normalise_option(option: str) -> str:
    """vLLM accepts underscores in long option names (`--max_model_len`); we compare dashed."""
    if option.startswith("--"):
        return "--" + option[2:].replace("_", "-")
    return option


def ordered(specs: Iterable[FlagSpec] = CATALOG) -> list[FlagSpec]:
    """Seed flags first (in the guide's order), then the rest grouped as in GROUPS."""
    specs = list(specs)
    seed_rank = {flag: i for i, flag in enumerate(SEED_FLAGS)}
    group_rank = {key: i for i, (key, _, _) in enumerate(GROUPS)}

    def key(s: FlagSpec) -> tuple[int, int, int]:
        if s.flag in seed_rank:
            return (0, seed_rank[s.flag], 0)
        if s.env in SEED_ENV:
            return (0, len(seed_rank), 0)
        return (1, group_rank.get(s.group, 99), specs.index(s))

    return sorted(specs, key=key)


__all__ = [
    "BY_DEST",
    "BY_ENV",
    "BY_OPTION",
    "CATALOG",
    "GROUPS",
    "LANGS",
    "SEED_ENV",
    "SEED_FLAGS",
    "FlagSpec",
    "Text",
    "VersionNote",
    "lookup_option",
    "normalise_option",
    "ordered",
    "spec",
    "t",
]
