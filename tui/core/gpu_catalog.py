"""GPUs for planning when none is detected (or when planning for another box).

`total_gib` is the total memory as CUDA reports it (torch.cuda.mem_get_info), which is what
vLLM multiplies by --gpu-memory-utilization; it is a little below the marketing size and below
nvidia-smi's total (the driver reserves some). Typical values; ECC mode and driver can move
them by ~0.5%.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GiB = 1 << 30


@dataclass(frozen=True)
class GpuSpec:
    """One GPU as the estimator sees it: detected (NVML) or from the catalog."""

    name: str
    total_bytes: int
    compute_capability: tuple[int, int]
    free_bytes: int | None = None
    index: int | None = None
    uuid: str | None = None
    unified_memory: bool = False
    size_only: bool = False
    """Only the memory size is known (--gpu-memory-gib): vLLM's per-GPU batch defaults (an
    A100 80GB is not an H100) cannot be told apart, so the estimate's band covers both."""

    @property
    def total_gib(self) -> float:
        return self.total_bytes / GiB

    @property
    def bf16(self) -> bool:
        return self.compute_capability >= (8, 0)

    @property
    def fp8(self) -> bool:
        """Native FP8 tensor cores (Ada, Hopper, Blackwell)."""
        return self.compute_capability >= (8, 9)

    @property
    def fp8_kv(self) -> str:
        """'yes', 'maybe' (depends on the attention backend) or 'no'."""
        if self.compute_capability >= (8, 9):
            return "yes"
        if self.compute_capability >= (8, 0):
            return "maybe"
        return "no"


def _g(name: str, gib: float, cc: tuple[int, int], uma: bool = False) -> GpuSpec:
    return GpuSpec(name=name, total_bytes=int(gib * GiB), compute_capability=cc, unified_memory=uma)


GPU_CATALOG: tuple[GpuSpec, ...] = (
    # 79.19 GiB: what CUDA reports with current drivers (NVML 79.65 minus the driver's
    # reservation); vLLM 0.11 logs "Free memory on device (78.59/79.19 GiB)". Older drivers: 79.22.
    _g("H100 80GB", 79.19, (9, 0)),
    _g("H100 NVL 94GB", 93.10, (9, 0)),
    _g("H200 141GB", 139.81, (9, 0)),
    _g("GH200 96GB", 94.50, (9, 0), uma=True),
    _g("B200 180GB", 178.36, (10, 0)),
    _g("A100 80GB", 79.15, (8, 0)),
    _g("A100 40GB", 39.39, (8, 0)),
    _g("L40S 48GB", 44.42, (8, 9)),
    _g("L40 48GB", 44.42, (8, 9)),
    _g("L4 24GB", 22.05, (8, 9)),
    _g("A10 24GB", 22.07, (8, 6)),
    _g("A10G 24GB", 22.07, (8, 6)),
    _g("T4 16GB", 14.74, (7, 5)),
    _g("V100 32GB", 31.74, (7, 0)),
    _g("V100 16GB", 15.77, (7, 0)),
    _g("RTX 3090 24GB", 23.58, (8, 6)),
    _g("RTX 4090 24GB", 23.65, (8, 9)),
    _g("RTX 5090 32GB", 31.36, (12, 0)),
    _g("RTX A6000 48GB", 47.50, (8, 6)),
    _g("RTX 6000 Ada 48GB", 47.50, (8, 9)),
    _g("RTX PRO 6000 96GB", 94.97, (12, 0)),
    _g("DGX Spark GB10 128GB", 119.70, (12, 1), uma=True),
)


def _norm(text: str) -> str:
    text = text.lower()
    for word in (
        "nvidia",
        "geforce",
        "tesla",
        "quadro",
        "pcie",
        "sxm5",
        "sxm4",
        "sxm",
        "hbm3",
        "hbm3e",
        "-",
        "_",
    ):
        text = text.replace(word, " ")
    return " ".join(text.split())


def find_gpu(name: str) -> GpuSpec | None:
    """Best catalog match for a user-typed or NVML-reported name ('h100', 'NVIDIA L40S')."""
    want = _norm(name)
    if not want:
        return None
    size = re.search(r"(\d+)\s*gb", want)
    best: tuple[int, GpuSpec] | None = None
    for gpu in GPU_CATALOG:
        have = _norm(gpu.name)
        model = have.rsplit(" ", 1)[0]  # without the size
        score = 0
        if want == have:
            score = 100
        elif want == model:
            score = 60
        elif re.search(rf"\b{re.escape(model)}\b", want):
            score = 40 + len(model)
        elif want in have:
            score = 20 + len(want)
        if score and size and size.group(0).replace(" ", "") in have.replace(" ", ""):
            score += 10
        if score and (best is None or score > best[0]):
            best = (score, gpu)
    return best[1] if best else None


def custom_gpu(total_gib: float, name: str | None = None) -> GpuSpec:
    """A GPU of a given size (for `--gpu-memory-gib`); assumes a modern (Hopper-class) card."""
    return GpuSpec(
        name=name or f"custom {total_gib:g} GiB",
        total_bytes=int(total_gib * GiB),
        compute_capability=(9, 0),
        size_only=name is None,
    )
