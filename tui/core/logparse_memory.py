"""The memory report in vLLM's log: weights, activation peak, non-torch memory, CUDA graphs,
KV cache (GiB and tokens), budget and free memory, across the wordings of V0 and V1.

Pure. tui.core.logparse re-exports `parse_memory`.
"""

from __future__ import annotations

import math
import re

_NUM = r"([\d,]+(?:\.\d+)?)"


def _f(text: str) -> float:
    return float(text.replace(",", ""))


_MEM_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), keys)
    for p, keys in (
        (
            r"(?:Model loading|Loading model weights) took " + _NUM + r" ?(?:GiB|GB)",
            ("weights_gib",),
        ),
        (r"Available KV cache memory: " + _NUM + " GiB", ("kv_cache_gib",)),
        (r"KV cache size: " + _NUM + " tokens", ("kv_cache_tokens",)),
        (
            r"Maximum concurrency for " + _NUM + r" tokens per request: " + _NUM + "x",
            ("concurrency_len", "max_concurrency"),
        ),
        (r"# (?:GPU|gpu|cuda|CUDA) blocks: " + _NUM, ("gpu_blocks",)),
        (r"Graph capturing finished in [\d.]+ secs?, took " + _NUM + " GiB", ("cuda_graph_gib",)),
        (r"Estimated CUDA graph memory: " + _NUM + " GiB", ("cuda_graph_estimate_gib",)),
        (r"model weights take " + _NUM + r" ?GiB", ("weights_gib",)),
        (r"non_torch_memory (?:takes )?" + _NUM + r" ?GiB", ("non_torch_gib",)),
        (r"(?:PyTorch )?activation peak memory (?:takes )?" + _NUM + r" ?GiB", ("activation_gib",)),
        (r"reserved for KV Cache is " + _NUM + r" ?GiB", ("kv_cache_gib",)),
        (r"available_kv_cache_memory\s+" + _NUM + r" ?GiB", ("kv_cache_gib",)),
        (r"total_gpu_memory[ =(]+" + _NUM + r" ?GiB", ("total_gib",)),
        (r"kv_cache_size=" + _NUM + "GiB", ("kv_cache_gib",)),
        (r"non_torch_memory=" + _NUM + "GiB", ("non_torch_gib",)),
        (r"peak_torch_memory=" + _NUM + "GiB", ("peak_torch_gib",)),
        (
            r"Actual usage is "
            + _NUM
            + r" GiB for weight, "
            + _NUM
            + r" GiB for peak activation, "
            + _NUM
            + r" GiB for non-torch memory(?:, and "
            + _NUM
            + r" GiB for CUDAGraph memory)?",
            ("weights_gib", "activation_gib", "non_torch_gib", "cuda_graph_gib"),
        ),
        (
            r"Desired GPU memory utilization is \(" + _NUM + ", " + _NUM + " GiB\\)",
            ("utilization", "budget_gib"),
        ),
        (r"Free memory on device \(" + _NUM + "/" + _NUM + " GiB\\)", ("free_gib", "total_gib")),
        (r"torch peak memory increase: " + _NUM + "GiB", ("activation_gib",)),
        (r"non-torch forward increase memory: " + _NUM + "GiB", ("non_torch_gib",)),
        (
            r"(?:Auto|Explicitly) set \(" + _NUM + "/" + _NUM + r"\) GiB for KV cache",
            ("kv_cache_gib", "total_gib"),
        ),
        (r"(" + _NUM[1:-1] + r") GiB memory was consumed by non-kv usages", ("non_kv_gib",)),
        (r"with " + _NUM + r" GiB requested memory", ("budget_gib",)),
    )  # fmt: skip
)
_MEM_HINTS = ("took", "KV cache", "blocks", "memory", "GiB", "concurrency")


def parse_memory(msg: str) -> dict[str, float]:
    """Memory numbers in one message (empty when none)."""
    if not any(h in msg for h in _MEM_HINTS):
        return {}
    out: dict[str, float] = {}
    for pat, keys in _MEM_PATTERNS:
        m = pat.search(msg)
        if not m:
            continue
        for key, value in zip(keys, m.groups(), strict=False):
            if value is not None and key not in out:
                number = _f(value)
                if math.isfinite(number) and number < 1e15:  # a hostile line cannot inject inf
                    out[key] = number
    if "peak_torch_gib" in out and "weights_gib" not in out:
        out.pop("peak_torch_gib")
    return out
