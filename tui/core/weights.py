"""Parameter inventory of a decoder and the weight bytes each GPU holds, the way vLLM shards.

Sharding rules mirrored from vLLM's parallel linear layers:
- column/row-parallel linears (q, o, MLP) split by TP; k/v split by KV heads, and when TP
  exceeds the KV heads each rank holds one whole head (replication);
- embeddings and lm_head are vocab-parallel (vocab padded to a multiple of 64, then / TP);
- norms, routers and the rotary cos/sin cache are replicated;
- MoE experts are split by TP along their intermediate size, or with expert parallelism each
  GPU holds experts / (TP x DP) whole experts;
- pipeline parallelism gives each stage a contiguous slice of layers (vLLM's get_pp_indices:
  the remainder goes to the stages before the last); embeddings on the first stage, norm and
  lm_head on the last.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.model_facts import DTYPE_BYTES, ModelFacts


@dataclass(frozen=True)
class WeightPlan:
    """How the weights are stored: bytes per parameter for each kind of tensor."""

    linear_bytes: float
    """Bytes per parameter of dense linear weights (quantized or not)."""
    expert_bytes: float
    """Bytes per parameter of MoE expert weights."""
    other_bytes: float
    """Embeddings, lm_head, norms, routers (never quantized by vLLM)."""
    label: str
    expert_pad: int = 1
    """Expert intermediate size is padded to a multiple of this (MXFP4 kernels)."""


def pp_layer_counts(num_layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage, as vLLM's get_pp_indices splits them."""
    base = num_layers // pp
    parts = [base] * pp
    for i in range(2, num_layers % pp + 2):
        parts[-i] += 1
    return parts


def weight_plan(facts: ModelFacts, dtype: str, quantization: str | None) -> WeightPlan:
    """Bytes per parameter from the checkpoint's quantization and the --quantization flag."""
    model_bytes = DTYPE_BYTES.get(dtype, 2)
    q = facts.quant
    method = (quantization or (q.method if q else "") or "").lower()
    if method in ("", "none"):
        return WeightPlan(model_bytes, model_bytes, model_bytes, dtype)
    if method in ("fp8", "fbgemm_fp8", "ptpc_fp8", "experts_int8"):
        # 1 byte per weight; per-tensor/per-block fp32 scales are < 0.1%.
        experts = 1.0 if method != "experts_int8" or facts.is_moe else model_bytes
        linear = 1.0 if method != "experts_int8" else model_bytes
        return WeightPlan(linear + 4 / 16384, experts + 4 / 16384, 2.0, "fp8 weights")
    if method in ("awq", "gptq", "awq_marlin", "gptq_marlin", "gptq_bitblas", "awq_bitblas"):
        bits = q.weight_bits if q else 4
        group = q.group_size if q and q.group_size > 0 else 128
        per = bits / 8 + 2 / group + (bits / 8) / group  # packed weights + fp16 scales + zeros
        return WeightPlan(per, per, 2.0, f"{method} {bits:g}-bit g{group}")
    if method == "compressed-tensors":
        bits = q.weight_bits if q else 8
        per = bits / 8 + (1 / 16 if bits == 4.5 else 2 / 128 if bits < 8 else 0.0)
        if bits == 4.5:
            per = 0.5 + 1 / 16  # nvfp4: fp4 + one fp8 scale per 16
        return WeightPlan(per, per, 2.0, f"compressed-tensors {bits:g}-bit")
    if method in ("modelopt", "modelopt_fp4", "nvfp4"):
        per = 0.5 + 1 / 16 if (q and q.weight_bits < 8) or method != "modelopt" else 1.0
        return WeightPlan(per, per, 2.0, method)
    if method == "mxfp4":
        return WeightPlan(model_bytes, 0.5 + 1 / 32, model_bytes, "mxfp4 experts", expert_pad=256)
    if method == "bitsandbytes":
        bits = q.weight_bits if q else 4
        per = 0.5 + 1 / 64 if bits == 4 else 1.0 + 4 / 64
        return WeightPlan(per, per, 2.0, f"bitsandbytes {bits:g}-bit")
    if method == "gguf":
        # Q8_0 = 34 bytes per 32 weights; other GGUF types are read from the file when known.
        return WeightPlan(34 / 32, 34 / 32, 34 / 32, "gguf (Q8_0 assumed)")
    return WeightPlan(model_bytes, model_bytes, model_bytes, f"{method} (treated as {dtype})")


@dataclass(frozen=True)
class StageWeights:
    """Bytes one GPU of a pipeline stage holds, by part."""

    layers: int
    attention: float
    mlp: float
    experts: float
    embeddings: float
    other: float

    @property
    def total(self) -> float:
        return self.attention + self.mlp + self.experts + self.embeddings + self.other


def _round_up(x: int, m: int) -> int:
    return -(-x // m) * m


def attention_params_per_layer(facts: ModelFacts, tp: int) -> float:
    """Attention parameters of one layer on one TP rank (MLA: latent projections, the
    replicated parts whole; GQA: KV heads replicated when TP exceeds them)."""
    h = facts.hidden_size
    heads = facts.num_heads
    if facts.is_mla:
        qk = facts.qk_nope_head_dim + facts.qk_rope_head_dim
        q = (
            facts.q_lora_rank * (h + heads * qk) + facts.q_lora_rank
            if facts.q_lora_rank
            else h * heads * qk
        )
        attn_split = (
            q
            + facts.kv_lora_rank * heads * (facts.qk_nope_head_dim + facts.v_head_dim)
            + heads * facts.v_head_dim * h
        )
        attn_repl = h * (facts.kv_lora_rank + facts.qk_rope_head_dim) + facts.kv_lora_rank
        if facts.q_lora_rank:
            # q_a projection and its norm are replicated; q_b is split by heads.
            attn_repl += h * facts.q_lora_rank + facts.q_lora_rank
            attn_split -= h * facts.q_lora_rank + facts.q_lora_rank
        return attn_split / tp + attn_repl
    d = facts.head_dim
    bias = 1 if facts.attention_bias else 0
    kv_rank = max(1, facts.num_kv_heads // tp)  # whole heads per rank; replicated when tp > kv
    q_o = (2 * heads * d * h + bias * heads * d) / tp
    k_v = 2 * kv_rank * d * (h + bias)
    norm = 2 * d if facts.qk_norm else 0
    return q_o + k_v + norm


def stage_weights(
    facts: ModelFacts,
    plan: WeightPlan,
    *,
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    expert_parallel: bool = False,
    rope_bytes: int = 2,
) -> list[StageWeights]:
    """Per-GPU weight bytes for each pipeline stage."""
    h = facts.hidden_size
    attn_per_layer = attention_params_per_layer(facts, tp)
    dense_mlp = 3 * h * facts.intermediate_size / tp
    experts = 0.0
    shared = 0.0
    router = 0.0
    if facts.is_moe:
        inter = _round_up(facts.moe_intermediate_size, plan.expert_pad)
        one = 3 * h * inter
        if expert_parallel:
            experts = facts.num_experts * one / (tp * dp)
        else:
            experts = facts.num_experts * one / tp
        shared = 3 * h * facts.shared_expert_intermediate_size / tp
        router = h * facts.num_experts
    norms = facts.norms_per_layer * h
    padded_vocab = _round_up(facts.vocab_size, 64)
    embed = padded_vocab * h / tp
    rope = rope_cache_bytes(facts, rope_bytes)

    stages = []
    first_layer = 0
    for s, count in enumerate(pp_layer_counts(facts.num_layers, pp)):
        layer_ids = range(first_layer, first_layer + count)
        first_layer += count
        n_moe = 0
        if facts.is_moe:
            n_moe = sum(
                1
                for i in layer_ids
                if i >= facts.first_dense_layers and (i + 1) % facts.moe_layer_freq == 0
            )
        n_dense = count - n_moe
        emb = 0.0
        other = count * norms * plan.other_bytes + rope
        if s == 0:
            emb += embed * plan.other_bytes
        if s == pp - 1:
            if not facts.tie_word_embeddings or pp > 1:
                emb += embed * plan.other_bytes
            other += h * plan.other_bytes
        stages.append(
            StageWeights(
                layers=count,
                attention=count * attn_per_layer * plan.linear_bytes,
                mlp=n_dense * dense_mlp * plan.linear_bytes + n_moe * shared * plan.linear_bytes,
                experts=n_moe * experts * plan.expert_bytes,
                embeddings=emb,
                other=other + n_moe * router * plan.other_bytes,
            )
        )
    return stages


def rope_cache_bytes(facts: ModelFacts, dtype_bytes: int) -> int:
    """vLLM's rotary cos/sin cache: max positions x rotary dims, in the model dtype, per GPU."""
    return facts.derived_max_model_len * (facts.rotary_dim or facts.head_dim) * dtype_bytes


def total_params(facts: ModelFacts) -> int:
    """Parameter count from config.json alone (what the model card calls its size)."""
    (stage,) = stage_weights(facts, WeightPlan(1.0, 1.0, 1.0, "count"), rope_bytes=0)
    return int(round(stage.total))


def active_params(facts: ModelFacts) -> int:
    """Parameters used per token (MoE: only the routed top-k experts count)."""
    if not facts.is_moe:
        return total_params(facts)
    plan = WeightPlan(1.0, 1.0, 1.0, "count")
    (stage,) = stage_weights(facts, plan, rope_bytes=0)
    per_expert_share = facts.num_experts_per_tok / max(facts.num_experts, 1)
    return int(stage.total - stage.experts + stage.experts * per_expert_share)
