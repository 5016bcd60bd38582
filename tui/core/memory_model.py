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
TRITON_PATH = 4.0 + 4.0
"""apply_top_k_top_p_triton (the default from 0.17.0: the Qwen3-14B version sweep drops from
5.64 to 2.23 GiB between 0.16.0 and 0.17.0) masks the fp32 logits in place; then
`probs = logits.softmax(fp32)` and the exponential noise `q` are alive together and
sample_with_exponential_noise divides in place: 8 B."""
TRITON_BUFFER_ROWS = 132
"""The Triton kernel keeps a cached fp32 scratch of min(next_pow2(rows), SM count) x vocab
(_TRITON_BUFFER_CACHE), allocated during the profile run. The SM count is the GPU's (H100:
132); a guess for other GPUs, a few tens of MiB either way."""


FLASHINFER_DEFAULT = ("0.9.0", "0.11.1")
"""Releases whose TopKTopPSampler uses FlashInfer whenever `import flashinfer.sampling` works
and VLLM_USE_FLASHINFER_SAMPLER is unset (v1/sample/ops/topk_topp_sampler.py: `is not False`);
PR #26859 (first in 0.11.1) made it opt-in (`VLLM_USE_FLASHINFER_SAMPLER=1`). Whether flashinfer
imports is a fact of the install: the CUDA images ship it, a pip install of 0.9-0.10.1 only
with the `flashinfer` extra. The log says which ("Using FlashInfer for top-p & top-k sampling"
or "FlashInfer is not available. Falling back to the PyTorch-native implementation")."""


def _wants_flashinfer(rules: Rules) -> bool:
    """Would this release's sampler pick FlashInfer if flashinfer imports?"""
    env = (rules.flashinfer_sampler_env or "").strip().lower()
    if env in ("0", "false"):
        return False
    if env in ("1", "true"):
        return True
    low, high = FLASHINFER_DEFAULT
    return at_least(rules.version, low) and not at_least(rules.version, high)


def sampler_path(rules: Rules) -> tuple[str, float, float, float]:
    """(path, bytes per logit at the value, low, high) for this release's dummy sampler run.

    When the install is known (`rules.flashinfer`), the path is exact; otherwise the band
    spans the paths the release can take and the value is the release's usual one."""
    sort = LOGITS_FP32 + SORT_PATH
    flash = LOGITS_FP32 + FLASHINFER_PATH
    triton = LOGITS_FP32 + TRITON_PATH
    if rules.engine == "V0":
        # V0 profile_run samples max_num_seqs dummy requests with top_k = vocab - 1 and
        # top_p = 0.99 through the same PyTorch sort; FlashInfer only with the env opt-in.
        return "V0 sampler, PyTorch sort top-k/top-p", sort, flash, sort
    wants = _wants_flashinfer(rules)
    if wants and rules.flashinfer:
        return "FlashInfer top-k/top-p (flashinfer installed)", flash, flash, flash
    if at_least(rules.version, "0.17.0"):
        # Triton ships with vLLM's CUDA builds, so the sort is not a possibility here; the
        # 0.17-0.19 logs sit 1-2 B per logit above the count (masks, kernel tables).
        return "Triton top-k/top-p", triton, flash, triton + 2.0
    if not wants or rules.flashinfer is False:
        # Sure to sort: flashinfer is absent, the variable says no, or the release made
        # FlashInfer opt-in (0.11.1+). Before 0.9 the default is not read here: keep the band.
        known = (
            rules.flashinfer is False
            or rules.flashinfer_sampler_env is not None
            or at_least(rules.version, FLASHINFER_DEFAULT[1])
        )
        return "PyTorch sort top-k/top-p", sort, sort if known else flash, sort
    if not at_least(rules.version, "0.10.2"):
        return "FlashInfer top-k/top-p (sort path if flashinfer is absent)", flash, flash, sort
    return "PyTorch sort top-k/top-p (FlashInfer if installed)", sort, flash, sort


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
    if logits and "Triton" in path:
        held += min(TRITON_BUFFER_ROWS, rules.profile_seqs) * facts.vocab_size * LOGITS_FP32
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
# Measured in logs, per release (rows: since, bytes); each value holds until a newer row. The
# benchmark's leave-one-release-family-out score drops the held-out family's rows.
NON_TORCH_BASE: tuple[tuple[str, float], ...] = (
    ("0.6.5", 0.05 * GiB),  # 0.7-0.10.2 logs: 0.01-0.09
    ("0.11.0", 0.13 * GiB),  # 0.11.0 H100: 0.13-0.14
    (
        "0.18.0",
        0.25 * GiB,
    ),  # Qwen3-14B H100: 0.13 on 0.15-0.17, 0.25 from 0.18.0; 0.24-0.25 on 0.19
)
"""cuBLAS/cuBLASLt workspaces and other allocations outside PyTorch's allocator on one GPU,
counted from the worker-init snapshot (the CUDA context is in the baseline)."""
NON_TORCH_NVLINK: tuple[tuple[str, float], ...] = (
    ("0.6.5", 0.10 * GiB),  # 0.10.1 A100 TP 2: ~0.1 left after the activation
    ("0.11.0", 0.40 * GiB),  # 0.11.0 H100 TP 2: 0.54-0.55 in all
    ("0.19.0", 1.85 * GiB),  # 0.19.0 H100 TP 2/4: 2.06-2.17 in all (NCCL NVLS buffers)
)
"""TP > 1 over NVLink: NCCL communicator buffers, custom all-reduce / symmetric-memory buffers,
and on NVSwitch Hopper+ systems NCCL's NVLink-SHARP buffers (the 0.19 jump)."""
NON_TORCH_PCIE: tuple[tuple[str, float], ...] = (("0.6.5", 0.15 * GiB),)
"""TP > 1 over PCIe (custom all-reduce off beyond 2 PCIe GPUs): 0.21 GiB in all for TP 8 on
L40S (0.10.2)."""
NON_TORCH_NVLS_HIGH = 2.3 * GiB
"""Band top on NVLink Hopper+ whatever the release: NVLS depends on NCCL and the machine."""
NVLINK_FAMILIES = ("a100", "a800", "h100", "h800", "h200", "h20", "gh200", "b200", "b300", "gb200")
"""Data-centre parts that are normally built with NVLink (SXM boards). A guess per name: a PCIe
A100/H100 without a bridge behaves like the PCIe case, which the band's low end covers."""
CUDA_CONTEXT = 0.3 * GiB
"""vLLM < 0.6.5 (worker.py determine_num_available_blocks) took non-torch memory as
`(total - free) - torch allocated` after the profile run, so it counted the CUDA context and
everything else the process (and any other process) held; PR #10511 (0.6.5) measures it from
a baseline instead. The context's size is the driver's: ~0.3-0.5 GiB (0.35 logged on 0.6.4)."""


def by_release(table: tuple[tuple[str, float], ...], version: str | None) -> float:
    """The newest row at or below `version` (the oldest row for older releases)."""
    value = table[0][1]
    for since, v in table:
        if at_least(version, since):
            value = v
    return value


def has_nvlink(gpu: GpuSpec) -> bool:
    name = gpu.name.lower()
    return any(f in name for f in NVLINK_FAMILIES) and "pcie" not in name


def non_torch(tp: int, gpu: GpuSpec, rules: Rules) -> Band:
    """Non-torch memory per GPU. Only the TP group allocates all-reduce buffers: pipeline
    stages talk point to point, and the profile run sends nothing (PP 2/4 logged 0.07 GiB)."""
    version = rules.version
    base = by_release(NON_TORCH_BASE, version)
    if not at_least(version, "0.6.5"):
        return Band(
            base + CUDA_CONTEXT,
            CUDA_CONTEXT,
            base + 2 * CUDA_CONTEXT,
            "guess",
            "vLLM < 0.6.5 counts the CUDA context as non-torch memory",
        )
    if tp == 1:
        return Band(
            base, 0.0, base + 0.3 * GiB, "guess", "CUDA allocations outside PyTorch (cuBLAS)"
        )
    nvlink = has_nvlink(gpu)
    comm = by_release(NON_TORCH_NVLINK if nvlink else NON_TORCH_PCIE, version)
    high = NON_TORCH_NVLS_HIGH if nvlink and gpu.compute_capability >= (9, 0) else 0.9 * GiB
    link = "NVLink" if nvlink else "PCIe"
    return Band(
        base + comm,
        0.1 * GiB,
        max(high, base + comm),
        "guess",
        f"outside PyTorch: cuBLAS + NCCL/all-reduce buffers for TP {tp} over {link}",
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
    per_token: float = GRAPH_BYTES_PER_TOKEN_HIDDEN * facts.hidden_size
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
