"""The named stages of `estimate()`: inputs, weights per pipeline stage, the overhead terms,
the KV budget at the middle and both ends of the band, the hard failures, the explanation.
Each is a small pure function; tui/core/estimate.py chains them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from tui.core.catalog import spec
from tui.core.config import ServeConfig
from tui.core.engine_rules import Rules, alternative_batch_defaults, rules_for
from tui.core.gpu_catalog import GiB, GpuSpec
from tui.core.kv import KVResult, compute_kv, kv_element_bytes
from tui.core.memory_model import Band, activation_peak, cuda_graph, non_torch
from tui.core.model_facts import DTYPE_BYTES, ModelFacts
from tui.core.weights import StageWeights, WeightPlan, rope_cache_bytes, stage_weights, weight_plan

WEIGHTS_BAND = 0.01
"""Weights are exact from the architecture (median 0.15% off on real logs); 1% covers the
checkpoints whose skipped-quantization layers config.json does not list."""


@dataclass(frozen=True)
class Inputs:
    """Everything the stages need that comes from the flags, the GPU and the release."""

    version: str | None
    gpu: GpuSpec
    tp: int
    pp: int
    dp: int
    ep: bool
    util: float
    max_model_len: int
    rules: Rules
    dtype: str
    dtype_bytes: float
    kv_elem: float
    explicit_kv: int | None
    eager: bool
    in_budget: bool
    notes: tuple[str, ...]
    alt_rules: Rules | None = None
    """The other card's batch defaults when only the GPU's size is known (band covers both)."""

    @property
    def world(self) -> int:
        return self.tp * self.pp

    @property
    def budget(self) -> int:
        """vLLM: requested_memory = ceil(gpu_memory_utilization x total) (total, not free)."""
        return math.ceil(self.util * self.gpu.total_bytes)


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


def inputs(
    facts: ModelFacts,
    cfg: ServeConfig,
    gpu: GpuSpec,
    *,
    version: str | None,
    engine: str | None,
    entry: str,
    device: str,
    flashinfer: bool | None = None,
) -> Inputs:
    tp = int(cfg.get("tensor_parallel_size"))
    pp = int(cfg.get("pipeline_parallel_size"))
    util = (
        cfg.get("gpu_memory_utilization")
        if cfg.is_set("gpu_memory_utilization")
        else spec("gpu_memory_utilization").default_for(version)
    )
    max_len_set = cfg.get("max_model_len")
    max_model_len = facts.derived_max_model_len if max_len_set in (None, -1) else int(max_len_set)
    rules = rules_for(
        version,
        gpu,
        max_model_len=max_model_len,
        engine=engine,
        entry=entry,
        device=device,
        max_num_batched_tokens=cfg.get("max_num_batched_tokens"),
        max_num_seqs=cfg.get("max_num_seqs"),
        enable_chunked_prefill=cfg.get("enable_chunked_prefill"),
        block_size=cfg.get("block_size"),
        is_mla=facts.is_mla,
        world_size=tp * pp,
    )
    sampler_env = dict(cfg.env).get("VLLM_USE_FLASHINFER_SAMPLER")
    rules = replace(rules, flashinfer=flashinfer, flashinfer_sampler_env=sampler_env)
    dtype, notes = model_dtype(facts, cfg, gpu)
    eager = bool(cfg.get("enforce_eager")) or device == "cpu"
    alt_rules = None
    alt = alternative_batch_defaults(version, gpu, entry, device, tp * pp)
    user_mnbt, user_seqs = cfg.get("max_num_batched_tokens"), cfg.get("max_num_seqs")
    if alt is not None and rules.engine == "V1" and not (user_mnbt and user_seqs):
        alt_rules = rules_for(
            version,
            gpu,
            max_model_len=max_model_len,
            engine=engine,
            entry=entry,
            device=device,
            max_num_batched_tokens=user_mnbt or alt[0],
            max_num_seqs=user_seqs or alt[1],
            block_size=cfg.get("block_size"),
            is_mla=facts.is_mla,
            world_size=tp * pp,
        )
        alt_rules = replace(alt_rules, flashinfer=flashinfer, flashinfer_sampler_env=sampler_env)
        notes.append(
            f"only the GPU's size is known: assumed vLLM's batch defaults for an H100-class card "
            f"({rules.max_num_batched_tokens} tokens / {rules.max_num_seqs} requests); an A100 "
            f"uses {alt[0]} / {alt[1]}, and the band covers both"
        )
    return Inputs(
        version=version,
        gpu=gpu,
        tp=tp,
        pp=pp,
        dp=int(cfg.get("data_parallel_size")),
        ep=bool(cfg.get("enable_expert_parallel")),
        util=float(util),
        max_model_len=max_model_len,
        rules=rules,
        dtype=dtype,
        dtype_bytes=DTYPE_BYTES.get(dtype, 2),
        kv_elem=kv_element_bytes(cfg.get("kv_cache_dtype") or "auto", dtype),
        explicit_kv=cfg.get("kv_cache_memory_bytes") or None,
        eager=eager,
        in_budget=rules.cuda_graph_in_budget and not eager,
        notes=tuple(notes),
        alt_rules=alt_rules,
    )


@dataclass(frozen=True)
class WeightsResult:
    per_stage: list[float]
    plan: WeightPlan
    stages: list[StageWeights]
    notes: list[str]


def weights_per_stage(facts: ModelFacts, cfg: ServeConfig, inp: Inputs) -> WeightsResult:
    """Weights per GPU on each pipeline stage, plus LoRA slots, minus --cpu-offload-gb."""
    notes: list[str] = []
    plan = weight_plan(facts, inp.dtype, cfg.get("quantization"))
    stages = stage_weights(
        facts,
        plan,
        tp=inp.tp,
        pp=inp.pp,
        dp=inp.dp,
        expert_parallel=inp.ep,
        rope_bytes=int(inp.dtype_bytes),
    )
    lora = lora_slot_bytes(facts, cfg, inp.tp, inp.dtype_bytes) if cfg.get("enable_lora") else 0.0
    offload = (cfg.get("cpu_offload_gb") or 0.0) * GiB
    scale = checkpoint_scale(facts, plan, inp.dtype, cfg.get("quantization"))
    if scale != 1.0:
        notes.append(
            f"weights scaled by {scale:.3f} to the checkpoint's own size "
            f"({(facts.checkpoint_bytes or 0) / GiB:.2f} GiB of tensors)"
        )
    rope = rope_cache_bytes(facts, int(inp.dtype_bytes))
    per_stage = [max(0.0, (s.total - rope) * scale + rope + lora - offload) for s in stages]
    if lora:
        notes.append(
            f"LoRA slots: {lora / GiB:.2f} GiB for {cfg.get('max_loras')} adapter(s) of rank "
            f"{cfg.get('max_lora_rank')}"
        )
    if offload:
        notes.append(
            f"--cpu-offload-gb keeps {offload / GiB:.1f} GiB of weights in host RAM (slow)"
        )
    return WeightsResult(per_stage, plan, list(stages), notes)


@dataclass(frozen=True)
class Overheads:
    """The measured-at-startup terms: activation per stage, non-torch, CUDA graphs."""

    activation: list[Band]
    non_torch: Band
    cuda_graph: Band


def overheads(
    facts: ModelFacts, inp: Inputs, weights: WeightsResult, measured: Mapping[str, float]
) -> Overheads:
    """Model each term (memory_model.py); a term measured on an earlier run replaces it."""
    acts = [
        activation_peak(
            facts, inp.rules, inp.tp, inp.dtype_bytes, inp.ep, last_stage=s == inp.pp - 1
        )
        for s in range(inp.pp)
    ]
    if inp.alt_rules is not None:
        alt_rules = inp.alt_rules
        acts = [
            _widen(
                a,
                activation_peak(
                    facts, alt_rules, inp.tp, inp.dtype_bytes, inp.ep, last_stage=s == inp.pp - 1
                ),
            )
            for s, a in enumerate(acts)
        ]
    nt = non_torch(inp.tp, inp.gpu, inp.rules)
    busiest = max(s.layers for s in weights.stages)
    graph = cuda_graph(facts, busiest, inp.rules, inp.tp, inp.dtype_bytes, inp.ep, inp.eager)
    exact = "measured on your earlier run of this combination"
    if "activation" in measured:
        v = measured["activation"]
        acts = [Band(v, v, v, "vllm", exact)] * inp.pp
    if "non_torch" in measured:
        v = measured["non_torch"]
        nt = Band(v, v, v, "vllm", exact)
    if "cuda_graph" in measured and not inp.eager:
        v = measured["cuda_graph"]
        graph = Band(v, v, v, "vllm", exact)
    return Overheads(acts, nt, graph)


def _widen(band: Band, other: Band) -> Band:
    return Band(
        band.value,
        min(band.low, other.low),
        max(band.high, other.high),
        band.provenance,
        band.basis + " (band includes the other card's batch defaults)",
    )


def available(inp: Inputs, weights: list[float], over: Overheads, end: str) -> list[int]:
    """Bytes left for the KV cache on each stage at the band's `end`: "mid", "low" (every
    guessed term at its pessimistic end) or "high" (optimistic)."""
    if inp.explicit_kv:
        return [int(inp.explicit_kv)] * inp.pp
    pick = {"mid": "value", "low": "high", "high": "low"}[end]
    w_scale = {"mid": 1.0, "low": 1 + WEIGHTS_BAND, "high": 1 - WEIGHTS_BAND}[end]
    graph = getattr(over.cuda_graph, pick) if inp.in_budget else 0.0
    nt = getattr(over.non_torch, pick)
    return [
        int(inp.budget - (w * w_scale + getattr(act, pick) + nt + graph))
        for w, act in zip(weights, over.activation, strict=True)
    ]


def kv_for(facts: ModelFacts, inp: Inputs, avail: list[int], max_model_len: int) -> KVResult:
    return compute_kv(
        facts,
        avail,
        tp=inp.tp,
        pp=inp.pp,
        element_bytes=inp.kv_elem,
        block_size=inp.rules.block_size,
        max_model_len=max_model_len,
        engine=inp.rules.engine,
        version=inp.version,
        max_num_batched_tokens=inp.rules.max_num_batched_tokens,
        hybrid=inp.rules.hybrid_kv,
    )


def hard_reasons(
    inp: Inputs, weights: list[float], over: Overheads, num_gpus: int | None
) -> list[str]:
    """Failures no band can rescue."""
    reasons: list[str] = []
    needed = inp.tp * inp.pp * inp.dp
    if num_gpus is not None and needed > num_gpus:
        reasons.append(
            f"needs {needed} GPUs (TP {inp.tp} x PP {inp.pp} x DP {inp.dp}) but {num_gpus} are available"
        )
    total = inp.gpu.total_bytes
    wmax = max(weights)
    if wmax > total:
        reasons.append(
            f"weights need {wmax / GiB:.1f} GiB per GPU, more than the GPU's {total / GiB:.1f} GiB: "
            "raise TP/PP or quantize"
        )
    free = inp.gpu.free_bytes
    if free is not None and inp.rules.engine == "V1" and not inp.explicit_kv and free < inp.budget:
        # v1/worker/gpu_worker.py: "Free memory on device ... on startup is less than desired
        # GPU memory utilization" (the check compares free memory with the budget).
        reasons.append(
            f"free memory {free / GiB:.2f} GiB is less than the {inp.budget / GiB:.2f} GiB budget "
            f"(utilization {inp.util:g}): vLLM refuses to start; lower --gpu-memory-utilization "
            "or free the GPU"
        )
    if inp.explicit_kv:
        used = (
            wmax
            + max(a.value for a in over.activation)
            + over.non_torch.value
            + over.cuda_graph.value
            + inp.explicit_kv
        )
        if used > total:
            reasons.append(
                f"weights + activations + the fixed {inp.explicit_kv / GiB:.1f} GiB KV cache exceed "
                f"the GPU ({total / GiB:.1f} GiB)"
            )
    return reasons


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


def lora_slot_bytes(facts: ModelFacts, cfg: ServeConfig, tp: int, dtype_bytes: float) -> float:
    """GPU buffers for max-loras adapters of max-lora-rank on every linear layer (A and B)."""
    rank = int(cfg.get("max_lora_rank") or 16)
    slots = int(cfg.get("max_loras") or 1)
    h, d = facts.hidden_size, facts.head_dim
    q, kv = facts.num_heads * d, facts.num_kv_heads * d
    inter = facts.intermediate_size if not facts.is_moe else 0
    per_layer = (h + q) + 2 * (h + kv) + (q + h) + 2 * (h + inter) + (inter + h)
    return facts.num_layers * slots * rank * per_layer * dtype_bytes / max(tp, 1)
