"""The terms vLLM measures at startup (activation peak, non-torch memory, CUDA graphs),
derived from what its code allocates, release by release. docs/memory-model.md has one
section per term: the code path, the releases where it changed, what remains a guess.

Every term is a `Band` (value, low, high) with a `provenance`:
  - "vllm":    vLLM's own arithmetic, reproduced exactly (budget, blocks, tokens);
  - "derived": counted from the tensors vLLM's code allocates (weights, the activation peak);
  - "guess":   a measured-in-logs figure that vLLM's code does not determine (NCCL buffers,
               CUDA-graph pools); the band says how far it has been seen to move.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.catalog.spec import Text, t
from tui.core.engine_rules import Rules
from tui.core.gpu_catalog import GiB, GpuSpec
from tui.core.model_facts import ModelFacts
from tui.core.versions import at_least

PROVENANCE_TEXT: dict[str, Text] = {
    "vllm": t("vLLM's arithmetic", "vLLM と同じ計算"),
    "derived": t("derived from vLLM's code", "vLLM のコードから導出"),
    "guess": t("guess with band", "推定（幅あり）"),
}
PROVENANCE = {key: text.en for key, text in PROVENANCE_TEXT.items()}
PROVENANCE_MARK = {"vllm": "", "derived": "≈", "guess": "~"}
"""How the VRAM panel marks a figure: exact, derived, guessed."""


@dataclass(frozen=True)
class Band:
    """One memory term per GPU in bytes, with the ends of its uncertainty."""

    value: float
    low: float
    high: float
    provenance: str
    basis: str

    def scaled(self, factor: float) -> Band:
        return Band(
            self.value * factor, self.low * factor, self.high * factor, self.provenance, self.basis
        )


# -- the dummy sampler run (v1/worker/gpu_model_runner.py _dummy_sampler_run) ---------------
# It samples max_num_seqs rows of vocab logits with top_k = vocab - 1 and top_p = 0.9, so the
# top-k/top-p path runs over the whole vocabulary. Bytes per (request x vocab) element alive at
# the peak, counted from the tensors each path allocates:
LOGITS_FP32 = 4.0
"""Sampler.forward casts the logits to float32 (the model-dtype logits stay alive in the caller)."""
SORT_PATH = 4 + 8 + 4 + 8 + 8
"""apply_top_k_top_p_pytorch: logits.sort() returns values (fp32) and indices (int64); PyTorch's
segmented radix sort holds a second key/value buffer (4 + 8) and an int64 iota of the input
indices while it runs. The later softmax/cumsum/masks (4 + 1 + 1) come after those temporaries
are freed, so the sort is the peak: 32 B on top of the fp32 logits."""
FLASHINFER_PATH = 4.0 + 4.0
"""flashinfer top_k_top_p_sampling_from_logits: one fp32 probability buffer plus its output;
no sort (FlashInfer's rejection sampling)."""
TRITON_PATH = 12.0
"""apply_top_k_top_p_triton (default from vLLM PR #33538): in place on the fp32 logits with a
scratch of 384 MB per 256 x 131072 logits (11.4 B, the PR's own measurement); then softmax
probs, the exponential noise q and probs.div(q) (3 x 4 B) are alive together: 12 B."""


def sampler_path(rules: Rules) -> tuple[str, float, float, float]:
    """(path, bytes per logit at the value, low, high) for this release's dummy sampler run."""
    version = rules.version
    sort = LOGITS_FP32 + SORT_PATH
    flash = LOGITS_FP32 + FLASHINFER_PATH
    triton = LOGITS_FP32 + TRITON_PATH
    if rules.engine == "V0":
        # V0 profile_run samples max_num_seqs dummy requests with top_k = vocab - 1 and
        # top_p = 0.99 through the same PyTorch sort; FlashInfer only with the env opt-in.
        return "V0 sampler, PyTorch sort top-k/top-p", sort, flash, sort
    if at_least(version, "0.16.0"):
        return "Triton top-k/top-p", triton, flash, sort
    if at_least(version, "0.9.0") and not at_least(version, "0.10.2"):
        # VLLM_USE_FLASHINFER_SAMPLER unset means "use FlashInfer when installed" in these
        # releases (the CUDA images ship it); a pip install without flashinfer sorts.
        return "FlashInfer top-k/top-p (sort path if flashinfer is absent)", flash, flash, sort
    return "PyTorch sort top-k/top-p", sort, flash, sort


def forward_peak(
    facts: ModelFacts, tokens: int, tp: int, dtype_bytes: float, expert_parallel: bool
) -> float:
    """Peak transient bytes of one forward pass over `tokens` tokens (the largest layer).

    The MLP dominates (LlamaMLP.forward and its kin): while down_proj writes its output
    (hidden), `gate_up` (2 x I) and the activated half (I) are still referenced, and the
    decoder layer holds the residual stream and the normed input (2 x hidden): 3 x I +
    3 x hidden per token. MoE: the fused-MoE intermediate caches for the top-k experts.
    """
    hidden = 3 * facts.hidden_size
    if facts.is_moe:
        inter = facts.moe_intermediate_size if expert_parallel else facts.moe_intermediate_size / tp
        k = max(facts.num_experts_per_tok, 1)
        moe = k * (3 * inter + facts.hidden_size)
        shared = 3 * facts.shared_expert_intermediate_size / tp
        dense = 3 * facts.intermediate_size / tp if facts.first_dense_layers else 0
        mlp = max(moe + shared, dense)
    else:
        mlp = 3 * facts.intermediate_size / tp
    qkv = (facts.num_heads + 2 * max(1, facts.num_kv_heads // tp)) * facts.head_dim / tp * 2
    return tokens * dtype_bytes * (max(mlp, qkv) + hidden)


def activation_peak(
    facts: ModelFacts,
    rules: Rules,
    tp: int,
    dtype_bytes: float,
    expert_parallel: bool,
    last_stage: bool = True,
) -> Band:
    """The profile run's transient peak; only the last pipeline stage runs the sampler.

    V1 profile_run: `hidden_states = _dummy_run(max_num_tokens)` returns, freeing the forward's
    intermediates, then `_dummy_sampler_run` runs while only the output hidden states stay
    alive. So the peak is the larger of the two, not their sum. V0's profile_run has the
    same shape (execute_model: forward, then compute_logits and the sampler).
    """
    fwd = forward_peak(facts, rules.profile_tokens, tp, dtype_bytes, expert_parallel)
    logits = rules.profile_seqs * facts.vocab_size if last_stage else 0
    path, per, low, high = sampler_path(rules)
    held = rules.profile_tokens * facts.hidden_size * dtype_bytes + logits * dtype_bytes
    basis = (
        f"profile run: the larger of a {rules.profile_tokens:,}-token forward and the sampler "
        f"over {rules.profile_seqs} x {facts.vocab_size:,} logits ({path})"
    )

    def peak(sampler_bytes: float, fwd_scale: float) -> float:
        return max(fwd * fwd_scale, held + logits * sampler_bytes)

    # The forward formula counts the MLP's transients exactly but not attention-backend
    # workspaces, hence its own +-20%.
    return Band(peak(per, 1.0), peak(low, 0.8), peak(high, 1.25), "derived", basis)


# -- non-torch memory (utils/mem_utils.py: cudaMemGetInfo used minus torch's reserved) --------
NON_TORCH_TP1 = 0.13 * GiB
"""cuBLAS/cuBLASLt workspaces and other allocations outside PyTorch's allocator, counted from
the init snapshot on (the CUDA context is in the baseline). Logs: 0.02-0.14 GiB (0.10-0.11)."""
NON_TORCH_NVLINK = 0.40 * GiB
"""TP/PP > 1 over NVLink: NCCL's per-peer channel buffers (more channels over NVLink) and the
custom all-reduce IPC buffers. Logs: 0.54 GiB in all for TP 2 on H100 (0.11.0)."""
NON_TORCH_PCIE = 0.08 * GiB
"""TP/PP > 1 over PCIe: fewer NCCL channels and no custom all-reduce beyond 2 PCIe GPUs (vLLM
disables it without full NVLink). Logs: 0.21 GiB in all for TP 8 on L40S (0.10.2)."""
NON_TORCH_NVLS_HIGH = 2.2 * GiB
"""NCCL's NVLink-SHARP buffers on NVSwitch Hopper/Blackwell systems: ~2.1 GiB per GPU logged
for TP 2 on 0.19. Whether NCCL turns NVLS on depends on the machine, so it is the band's top."""
NVLINK_FAMILIES = ("a100", "a800", "h100", "h800", "h200", "h20", "gh200", "b200", "b300", "gb200")
"""Data-centre parts that are normally built with NVLink (SXM boards). A guess per name: a PCIe
A100/H100 without a bridge behaves like the PCIe case, which the band's low end covers."""


def has_nvlink(gpu: GpuSpec) -> bool:
    name = gpu.name.lower()
    return any(f in name for f in NVLINK_FAMILIES) and "pcie" not in name


CUDA_CONTEXT = 0.3 * GiB
"""vLLM < 0.6.5 (worker.py determine_num_available_blocks) took non-torch memory as
`(total - free) - torch allocated` after the profile run, so it counted the CUDA context and
everything else the process (and any other process) held; PR #10511 (0.6.5) measures it from
a baseline instead. The context's size is the driver's: ~0.3-0.5 GiB (0.35 logged on 0.6.4)."""


def non_torch(world: int, gpu: GpuSpec, rules: Rules) -> Band:
    if not at_least(rules.version, "0.6.5"):
        return Band(
            NON_TORCH_TP1 + CUDA_CONTEXT,
            CUDA_CONTEXT,
            NON_TORCH_TP1 + 2 * CUDA_CONTEXT,
            "guess",
            "vLLM < 0.6.5 counts the CUDA context as non-torch memory",
        )
    if world == 1:
        return Band(
            NON_TORCH_TP1, 0.0, 0.4 * GiB, "guess", "CUDA allocations outside PyTorch (cuBLAS)"
        )
    nvlink = has_nvlink(gpu)
    comm = NON_TORCH_NVLINK if nvlink else NON_TORCH_PCIE
    high = NON_TORCH_NVLS_HIGH if gpu.compute_capability >= (9, 0) else 0.9 * GiB
    link = "NVLink" if nvlink else "PCIe"
    return Band(
        NON_TORCH_TP1 + comm,
        0.1 * GiB,
        high,
        "guess",
        f"outside PyTorch: cuBLAS + NCCL/custom all-reduce buffers for TP/PP over {link}",
    )


# -- CUDA graphs (v1/worker/gpu_model_runner.py capture_model / profile_cudagraph_memory) ------
GRAPH_BYTES_PER_TOKEN_HIDDEN = 5
"""Per captured layer and token: static input/output and intermediate buffers of ~5 x hidden
(attention in/out, MLP in/out, residual). The graph pool is shared across batch sizes, so the
largest captured batch sets it. Logged "Graph capturing ... took": 0.50 GiB for Qwen2-7B
(0.10.1), 0.68 GiB Qwen3-8B (0.10.2); the formula gives 0.48 and 0.70."""


GRAPH_MODES = 2
"""cudagraph_mode FULL_AND_PIECEWISE (the default in the releases that profile graphs)."""
MIN_PER_GRAPH = 1 << 20
"""profile_cudagraph_memory: per_graph = max(second capture's growth, 1 MiB)."""


def capture_size_count(max_size: int) -> int:
    """len(cudagraph_capture_sizes): 1, 2, 4, then every 8 below 256, then every 16
    (config/vllm.py _set_cudagraph_sizes)."""
    sizes = [s for s in (1, 2, 4) if s <= max_size]
    sizes += list(range(8, min(256, max_size + 1), 8))
    sizes += list(range(256, max_size + 1, 16))
    return max(1, len(sizes))


def cuda_graph(
    facts: ModelFacts,
    layers: int,
    rules: Rules,
    tp: int,
    dtype_bytes: float,
    expert_parallel: bool,
    eager: bool,
) -> Band:
    if eager:
        return Band(0.0, 0.0, 0.0, "vllm", "--enforce-eager: no graphs")
    per_token = GRAPH_BYTES_PER_TOKEN_HIDDEN * facts.hidden_size
    if facts.is_moe:
        inter = facts.moe_intermediate_size if expert_parallel else facts.moe_intermediate_size / tp
        per_token += max(facts.num_experts_per_tok, 1) * 2 * inter
    value = layers * rules.cuda_graph_max_batch * per_token * dtype_bytes
    if rules.cuda_graph_in_budget:
        # >= 0.21 subtracts profile_cudagraph_memory(): per mode, the first (largest) capture
        # plus (number of sizes - 1) x the second capture's growth, at least 1 MiB each
        # (gpu_model_runner.py; FULL_AND_PIECEWISE = 2 modes).
        value += GRAPH_MODES * (capture_size_count(rules.cuda_graph_max_batch) - 1) * MIN_PER_GRAPH
    where = "inside the budget" if rules.cuda_graph_in_budget else "outside the budget"
    return Band(
        value,
        value * 0.5,
        value * 1.6,
        "guess",
        f"graphs up to batch {rules.cuda_graph_max_batch} ({where})",
    )
