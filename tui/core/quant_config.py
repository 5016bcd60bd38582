"""A checkpoint's quantization_config, summarised for memory: method, bits per weight, group.

Pure. ModelFacts.quant holds a Quant; tui.core.model_facts re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quant:
    """A checkpoint's quantization as far as memory is concerned."""

    method: str
    """awq, gptq, fp8, compressed-tensors, mxfp4, bitsandbytes, gguf, ..."""
    weight_bits: float = 16
    group_size: int = 128
    kv_scheme: str | None = None
    notes: str = ""


def parse_quant(qc: Any) -> Quant | None:
    """Memory-relevant summary of a checkpoint's quantization_config."""
    if not isinstance(qc, dict):
        return None
    method = str(qc.get("quant_method") or qc.get("quant_type") or "").lower()
    if not method:
        return None
    bits = qc.get("bits") or qc.get("w_bit") or qc.get("weight_bits")
    group = qc.get("group_size") or qc.get("q_group_size") or 128
    if method in ("awq", "gptq", "awq_marlin", "gptq_marlin"):
        return Quant(
            method, float(bits or 4), int(group) if isinstance(group, int) and group > 0 else 128
        )
    if method == "fp8":
        return Quant("fp8", 8.0, notes=str(qc.get("weight_block_size") or "per-tensor"))
    if method == "mxfp4":
        return Quant("mxfp4", 4.25, notes="experts only")
    if method == "bitsandbytes":
        four = qc.get("load_in_4bit", True)
        return Quant("bitsandbytes", 4.0 if four else 8.0, 64)
    if method == "compressed-tensors":
        groups = qc.get("config_groups") or {}
        wbits = 8.0
        for group_cfg in groups.values() if isinstance(groups, dict) else ():
            w = (group_cfg or {}).get("weights") or {}
            if isinstance(w, dict) and w.get("num_bits"):
                wbits = float(w["num_bits"])
                if w.get("type") == "float" and wbits == 4:
                    wbits = 4.5  # nvfp4: fp4 + fp8 scale per 16
        kv = qc.get("kv_cache_scheme")
        return Quant(
            "compressed-tensors",
            wbits,
            kv_scheme=str(kv.get("type")) if isinstance(kv, dict) else None,
        )
    if method in ("modelopt", "modelopt_fp4"):
        algo = str(qc.get("quant_algo") or "").lower()
        return Quant(method, 4.5 if "fp4" in algo else 8.0)
    return Quant(method, float(bits) if isinstance(bits, int | float) else 16.0)
