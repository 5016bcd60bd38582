"""Predict what vLLM prints at startup for a config on a GPU, before anything is downloaded.

vLLM's own arithmetic (v1/worker/gpu_worker.py determine_available_memory, utils/mem_utils.py
memory_profiling), per GPU:

    budget        = ceil(gpu_memory_utilization x total memory)      (total, not free)
    available KV  = budget - weights - activation peak - non-torch [- CUDA graphs, >= 0.21]
    blocks        = available // (block_size x bytes per token x layers per group)

Weights and KV bytes are computed exactly from the architecture; the activation peak,
non-torch memory and CUDA-graph memory are measured by vLLM at startup and are modelled here
(named as guesses, with a low/high band).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tui.core.catalog import spec
from tui.core.config import ServeConfig
from tui.core.engine_rules import Rules, rules_for
from tui.core.gpu_catalog import GiB, GpuSpec
from tui.core.kv import KVResult, compute_kv, kv_element_bytes
from tui.core.model_facts import DTYPE_BYTES, ModelFacts
from tui.core.weights import StageWeights, WeightPlan, rope_cache_bytes, stage_weights, weight_plan


@dataclass(frozen=True)
class Term:
    """One line of the memory breakdown (per GPU, bytes)."""

    key: str
    label: str
    value: float
    low: float
    high: float
    basis: str
    guess: bool


@dataclass(frozen=True)
class Estimate:
    """The prediction, per GPU unless named otherwise."""

    model: str
    gpu: str
    num_gpus: int
    vllm_version: str | None
    engine: str
    total_bytes: int
    budget_bytes: int
    terms: tuple[Term, ...]
    kv_cache_bytes: int
    kv: KVResult
    kv_low: KVResult
    kv_high: KVResult
    max_model_len: int
    fits: bool
    verdict: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    rules: Rules
    kv_element_bytes: float
    cuda_graph_in_budget: bool

    def term(self, key: str) -> Term:
        return next(t for t in self.terms if t.key == key)

    def gib(self, key: str) -> float:
        return self.term(key).value / GiB

    def as_json(self) -> dict[str, object]:
        r2 = lambda x: round(x / GiB, 3)  # noqa: E731
        return {
            "model": self.model,
            "gpu": self.gpu,
            "num_gpus": self.num_gpus,
            "vllm_version": self.vllm_version,
            "engine": self.engine,
            "total_gib": r2(self.total_bytes),
            "budget_gib": r2(self.budget_bytes),
            "weights_gib": r2(self.term("weights").value),
            "activation_gib": r2(self.term("activation").value),
            "non_torch_gib": r2(self.term("non_torch").value),
            "cuda_graph_gib": r2(self.term("cuda_graph").value),
            "cuda_graph_in_budget": self.cuda_graph_in_budget,
            "kv_cache_gib": r2(self.kv_cache_bytes),
            "kv_bytes_per_token": self.kv.bytes_per_token,
            "kv_cache_dtype_bytes": self.kv_element_bytes,
            "block_size": self.kv.block_size,
            "num_gpu_blocks": self.kv.num_blocks,
            "kv_cache_tokens": self.kv.tokens,
            "max_concurrency": round(self.kv.max_concurrency, 2),
            "max_model_len": self.max_model_len,
            "max_fitting_model_len": self.kv.max_fitting_len,
            "max_num_batched_tokens": self.rules.max_num_batched_tokens,
            "max_num_seqs": self.rules.max_num_seqs,
            "fits": self.fits,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "band": {
                "kv_cache_tokens": [self.kv_low.tokens, self.kv_high.tokens],
                "kv_cache_gib": [r2(self._kv_bytes_low), r2(self._kv_bytes_high)],
            },
            "terms": [
                {
                    "key": t.key,
                    "label": t.label,
                    "gib": r2(t.value),
                    "low_gib": r2(t.low),
                    "high_gib": r2(t.high),
                    "basis": t.basis,
                    "guess": t.guess,
                }
                for t in self.terms
            ],
            "notes": list(self.notes),
        }

    _kv_bytes_low: int = 0
    _kv_bytes_high: int = 0


@dataclass(frozen=True)
class Target:
    """Where the model will run."""

    gpu: GpuSpec
    num_gpus: int | None = None
    vllm_version: str | None = None
    engine: str | None = None
    entry: str = "serve"
    device: str = "cuda"
    measured: Mapping[str, float] = field(default_factory=dict)
    """Terms measured on a previous run of the same combination (bytes), used as-is."""


def model_dtype(facts: ModelFacts, cfg: ServeConfig, gpu: GpuSpec) -> tuple[str, list[str]]:
    """The dtype vLLM will run in (--dtype auto rules), with notes."""
    notes: list[str] = []
    requested = cfg.get("dtype") or "auto"
    alias = {"half": "float16", "float": "float32"}
    if requested != "auto":
        return alias.get(requested, requested), notes
    dtype = facts.torch_dtype
    if dtype in ("float32", "float"):
        dtype = "bfloat16" if gpu.bf16 else "float16"
        notes.append("--dtype auto turns an fp32 checkpoint into 16-bit weights")
    if dtype == "bfloat16" and not gpu.bf16:
        dtype = "float16"
        notes.append(f"{gpu.name} has no bfloat16: --dtype auto falls back to float16")
    return dtype, notes


def forward_peak(
    facts: ModelFacts, tokens: int, tp: int, dtype_bytes: float, expert_parallel: bool
) -> float:
    """Peak activation bytes of one forward pass over `tokens` tokens (largest layer transient).

    The MLP dominates: gate_up output (2 x I) and the activated half (I) are alive together,
    plus the residual stream and normed hidden states (2 x hidden).
    """
    hidden = 2 * facts.hidden_size
    if facts.is_moe:
        inter = facts.moe_intermediate_size if expert_parallel else facts.moe_intermediate_size / tp
        k = max(facts.num_experts_per_tok, 1)
        moe = k * (3 * inter + facts.hidden_size)  # fused-MoE intermediate caches
        shared = 3 * facts.shared_expert_intermediate_size / tp
        dense = 3 * facts.intermediate_size / tp if facts.first_dense_layers else 0
        mlp = max(moe + shared, dense)
    else:
        mlp = 3 * facts.intermediate_size / tp
    qkv = (facts.num_heads + 2 * max(1, facts.num_kv_heads // tp)) * facts.head_dim / tp * 2
    return tokens * dtype_bytes * (max(mlp, qkv) + hidden)


def cuda_graph_bytes(
    facts: ModelFacts, layers: int, batch: int, tp: int, dtype_bytes: float, expert_parallel: bool
) -> float:
    """Guess of the CUDA-graph pool: per-layer static buffers for the largest captured batch."""
    per_token = 5 * facts.hidden_size
    if facts.is_moe:
        inter = facts.moe_intermediate_size if expert_parallel else facts.moe_intermediate_size / tp
        per_token += max(facts.num_experts_per_tok, 1) * 2 * inter
    return layers * batch * per_token * dtype_bytes


def estimate(facts: ModelFacts, cfg: ServeConfig, target: Target) -> Estimate:
    """The full prediction for `cfg` on `target`."""
    version = target.vllm_version
    gpu = target.gpu
    tp = int(cfg.get("tensor_parallel_size"))
    pp = int(cfg.get("pipeline_parallel_size"))
    dp = int(cfg.get("data_parallel_size"))
    ep = bool(cfg.get("enable_expert_parallel"))
    util = (
        cfg.get("gpu_memory_utilization")
        if cfg.is_set("gpu_memory_utilization")
        else spec("gpu_memory_utilization").default_for(version)
    )
    notes: list[str] = []
    reasons: list[str] = []

    max_len_set = cfg.get("max_model_len")
    max_model_len = facts.derived_max_model_len if max_len_set in (None, -1) else int(max_len_set)
    rules = rules_for(
        version,
        gpu,
        max_model_len=max_model_len,
        engine=target.engine,
        entry=target.entry,
        device=target.device,
        max_num_batched_tokens=cfg.get("max_num_batched_tokens"),
        max_num_seqs=cfg.get("max_num_seqs"),
        enable_chunked_prefill=cfg.get("enable_chunked_prefill"),
        block_size=cfg.get("block_size"),
        is_mla=facts.is_mla,
        world_size=tp * pp,
    )
    dtype, dtype_notes = model_dtype(facts, cfg, gpu)
    notes += dtype_notes
    dbytes = DTYPE_BYTES.get(dtype, 2)

    # -- weights (exact from the architecture) ------------------------------------------
    plan = weight_plan(facts, dtype, cfg.get("quantization"))
    stages = stage_weights(
        facts, plan, tp=tp, pp=pp, dp=dp, expert_parallel=ep, rope_bytes=int(dbytes)
    )
    lora = lora_slot_bytes(facts, cfg, tp, dbytes) if cfg.get("enable_lora") else 0.0
    offload = (cfg.get("cpu_offload_gb") or 0.0) * GiB
    scale = checkpoint_scale(facts, plan, dtype, cfg.get("quantization"))
    if scale != 1.0:
        notes.append(
            f"weights scaled by {scale:.3f} to the checkpoint's own size ({(facts.checkpoint_bytes or 0) / GiB:.2f} GiB of tensors)"
        )
    rope = rope_cache_bytes(facts, int(dbytes))
    stage_w = [max(0.0, (s.total - rope) * scale + rope + lora - offload) for s in stages]
    if lora:
        notes.append(
            f"LoRA slots: {lora / GiB:.2f} GiB for {cfg.get('max_loras')} adapter(s) of rank {cfg.get('max_lora_rank')}"
        )
    if offload:
        notes.append(
            f"--cpu-offload-gb keeps {offload / GiB:.1f} GiB of weights in host RAM (slow)"
        )

    # -- activation peak of the profiling run (modelled) -------------------------------
    fwd = forward_peak(facts, rules.profile_tokens, tp, dbytes, ep)
    sampler = rules.profile_seqs * facts.vocab_size * rules.sampler_bytes_per_logit
    # The sampler runs on the last pipeline stage only.
    activation = [fwd + sampler if s == pp - 1 else fwd for s in range(pp)]

    # -- non-torch memory (NCCL, all-reduce buffers, cuBLAS workspaces) -----------------
    world = tp * pp
    non_torch = 0.05 * GiB if world == 1 else 0.25 * GiB
    nt_low, nt_high = (0.0, 0.4 * GiB) if world == 1 else (0.1 * GiB, 0.8 * GiB)

    # -- CUDA graphs ---------------------------------------------------------------------
    eager = bool(cfg.get("enforce_eager")) or target.device == "cpu"
    busiest_layers = max(s.layers for s in stages)
    graph = (
        0.0
        if eager
        else cuda_graph_bytes(facts, busiest_layers, rules.cuda_graph_max_batch, tp, dbytes, ep)
    )
    in_budget = rules.cuda_graph_in_budget and not eager

    measured = dict(target.measured)
    if "weights" in measured:
        stage_w = [measured["weights"]] * pp
        notes.append("weights: measured on your earlier run of this combination")
    if "activation" in measured:
        activation = [measured["activation"]] * pp
    if "non_torch" in measured:
        non_torch = nt_low = nt_high = measured["non_torch"]
    if "cuda_graph" in measured and not eager:
        graph = measured["cuda_graph"]

    total = gpu.total_bytes
    budget = math.ceil(util * total)
    explicit_kv = cfg.get("kv_cache_memory_bytes")

    def available(act_scale: float, nt: float, graph_scale: float) -> list[int]:
        if explicit_kv:
            return [int(explicit_kv)] * pp
        out = []
        for s in range(pp):
            used = (
                stage_w[s]
                + activation[s] * act_scale
                + nt
                + (graph * graph_scale if in_budget else 0.0)
            )
            out.append(int(budget - used))
        return out

    kv_dtype = cfg.get("kv_cache_dtype") or "auto"
    elem = kv_element_bytes(kv_dtype, dtype)

    def kv_for(avail: list[int]) -> KVResult:
        return compute_kv(
            facts,
            avail,
            tp=tp,
            pp=pp,
            element_bytes=elem,
            block_size=rules.block_size,
            max_model_len=max_model_len,
            engine=rules.engine,
            version=version,
            max_num_batched_tokens=rules.max_num_batched_tokens,
            hybrid=rules.hybrid_kv,
        )

    avail_mid = available(1.0, non_torch, 1.0)
    kv_mid = kv_for(avail_mid)
    # Band: overhead terms at their low/high ends (weights are exact to ~1%).
    avail_hi = available(0.6, nt_low, 0.5)
    avail_lo = available(1.5, nt_high, 1.6)
    kv_hi, kv_lo = kv_for(avail_hi), kv_for(avail_lo)

    # -- verdict --------------------------------------------------------------------------
    needed_gpus = tp * pp * dp
    if target.num_gpus is not None and needed_gpus > target.num_gpus:
        reasons.append(
            f"needs {needed_gpus} GPUs (TP {tp} x PP {pp} x DP {dp}) but {target.num_gpus} are available"
        )
    wmax = max(stage_w)
    if wmax > total:
        reasons.append(
            f"weights need {wmax / GiB:.1f} GiB per GPU, more than the GPU's {total / GiB:.1f} GiB: raise TP/PP or quantize"
        )
    elif not explicit_kv and min(avail_mid) <= 0:
        reasons.append(
            f"no memory left for the KV cache: weights {wmax / GiB:.1f} GiB + overheads exceed the "
            f"{budget / GiB:.1f} GiB budget (utilization {util:g}): raise --gpu-memory-utilization, "
            "raise TP, or quantize"
        )
    elif not kv_mid.fits:
        if rules.engine == "V0":
            reasons.append(
                f"max-model-len {max_model_len:,} is larger than the {kv_mid.tokens:,} tokens the KV cache holds: "
                f"use --max-model-len {kv_mid.max_fitting_len} or less"
            )
        else:
            options = (
                [f"--max-model-len {kv_mid.max_fitting_len}"] if kv_mid.max_fitting_len else []
            )
            if util < 0.95 and not explicit_kv:
                options.append("a higher --gpu-memory-utilization")
            if elem > 1:
                options.append("--kv-cache-dtype fp8 (about twice the tokens)")
            options.append("more GPUs (--tensor-parallel-size)")
            reasons.append(
                f"one request of {max_model_len:,} tokens does not fit in the KV cache (the largest that fits is "
                f"{kv_mid.max_fitting_len:,}); use " + ", or ".join(options)
            )
    if explicit_kv:
        used = wmax + max(activation) + non_torch + graph + explicit_kv
        notes.append(
            "--kv-cache-memory-bytes set: the KV cache size ignores --gpu-memory-utilization"
        )
        if used > total:
            reasons.append(
                f"weights + activations + the fixed {explicit_kv / GiB:.1f} GiB KV cache exceed the GPU ({total / GiB:.1f} GiB)"
            )
    elif graph and not in_budget and budget + graph > total:
        notes.append(
            f"CUDA graphs (~{graph / GiB:.2f} GiB) are captured outside the budget in this vLLM; "
            f"budget + graphs exceeds the GPU: capture may OOM (lower utilization or --enforce-eager)"
        )

    fits = not reasons
    if fits:
        verdict = f"starts: {kv_mid.tokens:,} KV tokens, {kv_mid.max_concurrency:.2f}x concurrent requests of {max_model_len:,} tokens"
    else:
        verdict = "fails: " + reasons[0]
    notes.append(
        f"vLLM {version or 'newest known'} ({rules.engine}): profile batch {rules.profile_tokens:,} tokens / "
        f"{rules.profile_seqs} requests; block size {rules.block_size}; "
        + (
            "CUDA graphs counted inside the budget"
            if in_budget
            else "CUDA graphs outside the budget"
            if graph
            else "no CUDA graphs"
        )
    )
    if facts.best_effort:
        notes.append("unknown architecture: best-effort estimate from generic transformer formulas")
    if kv_mid.padding_layers:
        notes.append(
            f"hybrid attention: {kv_mid.groups} KV groups, {kv_mid.padding_layers} padding layer(s) as vLLM adds"
        )

    first_stage = stages[0]
    terms = (
        Term(
            "weights",
            "Weights",
            wmax,
            wmax * 0.98,
            wmax * 1.02,
            _weights_basis(plan.label, first_stage, tp, pp),
            False,
        ),
        Term(
            "activation",
            "Activation peak",
            max(activation),
            max(activation) * 0.6,
            max(activation) * 1.5,
            f"profile run: {rules.profile_tokens:,} tokens forward + sampler over {rules.profile_seqs} x {facts.vocab_size:,} logits",
            "activation" not in measured,
        ),
        Term(
            "non_torch",
            "Non-torch (NCCL, buffers)",
            non_torch,
            nt_low,
            nt_high,
            "CUDA/NCCL allocations outside PyTorch"
            + (" (TP/PP all-reduce buffers)" if world > 1 else ""),
            "non_torch" not in measured,
        ),
        Term(
            "cuda_graph",
            "CUDA graphs",
            graph,
            graph * 0.5,
            graph * 1.6,
            "--enforce-eager: none"
            if eager
            else f"graphs up to batch {rules.cuda_graph_max_batch}"
            + (" (inside the budget)" if in_budget else " (outside the budget)"),
            not eager and "cuda_graph" not in measured,
        ),
        Term(
            "kv_cache",
            "KV cache",
            float(min(avail_mid)),
            float(min(avail_lo)),
            float(min(avail_hi)),
            "what is left of the budget" if not explicit_kv else "--kv-cache-memory-bytes",
            False,
        ),
    )
    est = Estimate(
        model=facts.name,
        gpu=gpu.name,
        num_gpus=target.num_gpus or needed_gpus,
        vllm_version=version,
        engine=rules.engine,
        total_bytes=total,
        budget_bytes=budget,
        terms=terms,
        kv_cache_bytes=max(0, min(avail_mid)),
        kv=kv_mid,
        kv_low=kv_lo,
        kv_high=kv_hi,
        max_model_len=max_model_len,
        fits=fits,
        verdict=verdict,
        reasons=tuple(reasons),
        notes=tuple(notes),
        rules=rules,
        kv_element_bytes=elem,
        cuda_graph_in_budget=in_budget,
    )
    return replace(est, _kv_bytes_low=max(0, min(avail_lo)), _kv_bytes_high=max(0, min(avail_hi)))


def checkpoint_scale(
    facts: ModelFacts, plan: WeightPlan, dtype: str, quantization: str | None
) -> float:
    """When the checkpoint's real size is known (safetensors), trust it over the formulas:
    it captures what config.json cannot say (vision towers, layers a quantizer skipped)."""
    if not facts.checkpoint_bytes:
        return 1.0
    if quantization and not (facts.quant and quantization.startswith(facts.quant.method)):
        return 1.0  # quantized at load time: the checkpoint size says nothing about the result
    if not facts.quant and dtype != facts.torch_dtype:
        return 1.0  # cast at load time (e.g. --dtype float32)
    (whole,) = stage_weights(facts, plan, rope_bytes=0)
    if whole.total <= 0:
        return 1.0
    ratio = facts.checkpoint_bytes / whole.total
    return ratio if 0.5 < ratio < 2.0 and abs(ratio - 1.0) > 0.01 else 1.0


def _weights_basis(label: str, stage: StageWeights, tp: int, pp: int) -> str:
    split = []
    if tp > 1:
        split.append(f"TP {tp}")
    if pp > 1:
        split.append(f"PP {pp}")
    how = f" split by {' x '.join(split)}" if split else ""
    return f"{label}{how}; exact from the architecture"


def lora_slot_bytes(facts: ModelFacts, cfg: ServeConfig, tp: int, dtype_bytes: float) -> float:
    """GPU buffers for max-loras adapters of max-lora-rank on every linear layer (A and B)."""
    rank = int(cfg.get("max_lora_rank") or 16)
    slots = int(cfg.get("max_loras") or 1)
    h, d = facts.hidden_size, facts.head_dim
    q, kv = facts.num_heads * d, facts.num_kv_heads * d
    inter = facts.intermediate_size if not facts.is_moe else 0
    per_layer = (h + q) + 2 * (h + kv) + (q + h) + 2 * (h + inter) + (inter + h)
    return facts.num_layers * slots * rank * per_layer * dtype_bytes / max(tp, 1) * 1.0
