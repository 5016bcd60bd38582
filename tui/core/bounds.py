"""Bounds on numbers that come from the command line: what any real model or cluster has.

Serve flags are checked once they are typed (`check_serve_bounds`, called by the importer for
every parsed command line), and our own CLI options use the bounded argparse types below, which
raise `UserError` (one line, exit 2) instead of letting a 25-digit GPU count or a 1e-300 GiB
GPU reach the estimator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from tui.core.errors import UserError

MAX_PARALLEL = 1024
"""Per parallel dimension (TP, PP, DP, ...): far beyond any deployment of one model."""
MAX_GPUS = 16384
MAX_GPU_GIB = 65536.0
MIN_GPU_GIB = 0.5
MAX_TOKENS = 1 << 27
"""Positions / tokens: above the longest context any model has (~10M)."""

#: dest -> (lowest, highest) for serve flags whose catalog range is open-ended.
SERVE_BOUNDS: dict[str, tuple[float, float]] = {
    "tensor_parallel_size": (1, MAX_PARALLEL),
    "pipeline_parallel_size": (1, MAX_PARALLEL),
    "data_parallel_size": (1, MAX_PARALLEL),
    "data_parallel_size_local": (1, MAX_PARALLEL),
    "decode_context_parallel_size": (1, MAX_PARALLEL),
    "port": (1, 65535),
    "max_model_len": (-1, MAX_TOKENS),
    "max_num_batched_tokens": (1, MAX_TOKENS),
    "max_num_seqs": (1, 1 << 20),
    "max_num_partial_prefills": (1, 1 << 20),
    "max_loras": (1, 4096),
    "max_cpu_loras": (1, 1 << 16),
    "max_lora_rank": (1, 1 << 16),
    "swap_space": (0, 1 << 20),
    "cpu_offload_gb": (0, 1 << 20),
    "kv_cache_memory_bytes": (0, 1 << 50),
    "seed": (-(1 << 63), (1 << 63) - 1),
    "max_logprobs": (-1, 1 << 20),
    "gpu_memory_utilization": (1e-4, 1),  # vLLM says > 0; a denormal is not a budget
}


def _block_size_problem(value: Any) -> str | None:
    """vLLM's kernels want 1 or a multiple of 8 (the catalog lists 8..256; hybrids use more)."""
    if value == 1 or (isinstance(value, int) and 8 <= value <= 4096 and value % 8 == 0):
        return None
    return "must be 1 or a multiple of 8 up to 4096 (usual: 16, 32, 64, 128)"


_HOSTNAME = re.compile(
    r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?"
)


def _host_problem(value: Any) -> str | None:
    """An IP address or a host name (what bind() and getaddrinfo() can take)."""
    import ipaddress

    text = str(value)
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    return (
        None
        if _HOSTNAME.fullmatch(text)
        else f"must be an IP address or a host name (got {text[:40]!r})"
    )


EXTRA_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "block_size": _block_size_problem,
    "host": _host_problem,
}


def serve_value_problem(dest: str, flag: str, value: Any, spec: Any = None) -> str | None:
    """Why a typed serve-flag value is out of range (None when fine)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        extra = EXTRA_CHECKS.get(dest)
        problem = extra(value) if extra and value is not None else None
        return f"{flag} {problem}" if problem else None
    if not math.isfinite(value):
        return f"{flag} must be finite (got {value})"
    lo, hi = SERVE_BOUNDS.get(dest, (None, None))
    if spec is not None:
        smin, smax = getattr(spec, "minimum", None), getattr(spec, "maximum", None)
        if smin is not None:
            if getattr(spec, "exclusive_minimum", False) and value <= smin:
                return f"{flag} must be more than {smin:g} (got {value:g})"
            lo = smin if lo is None else max(lo, smin)
        if smax is not None:
            hi = smax if hi is None else min(hi, smax)
    if dest == "max_model_len" and value == -1:
        return None  # "auto"
    if dest == "max_model_len" and value == 0:
        return f"{flag} must be at least 1, or auto (got 0)"
    if lo is not None and value < lo:
        return f"{flag} must be at least {_bound(lo)} (got {_short(value)})"
    if hi is not None and value > hi:
        return f"{flag} must be at most {_bound(hi)} (got {_short(value)})"
    extra = EXTRA_CHECKS.get(dest)
    problem = extra(value) if extra else None
    return f"{flag} {problem} (got {value:g})" if problem else None


def _bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _short(value: float) -> str:
    text = str(value) if isinstance(value, int) else f"{value:g}"
    return text if len(text) <= 24 else text[:21] + "..."


def check_world_size(world: int) -> None:
    """UserError when TP x PP x DP asks for more GPUs than we plan for."""
    if world > MAX_GPUS:
        raise UserError(
            f"TP x PP x DP = {world:,} GPUs: more than {MAX_GPUS:,}, the most we plan for"
        )


def check_serve_bounds(values: dict[str, Any], specs: dict[str, Any]) -> None:
    """UserError naming the first serve flag whose value no real deployment has."""
    for dest, value in values.items():
        spec = specs.get(dest)
        flag = getattr(spec, "flag", None) or "--" + dest.replace("_", "-")
        problem = serve_value_problem(dest, flag, value, spec)
        if problem:
            raise UserError(problem)


# -- argparse types for our own options ------------------------------------------------------


def bounded_int(option: str, lo: int, hi: int) -> Callable[[str], int]:
    """An argparse `type` that accepts whole numbers in [lo, hi] (UserError otherwise)."""

    def parse(text: str) -> int:
        raw = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,4000}", raw):
            raise UserError(f"{option}: {text[:40]!r} is not a whole number")
        value = int(raw)
        if not lo <= value <= hi:
            raise UserError(f"{option} must be between {lo} and {hi} (got {_short(value)})")
        return value

    return parse


def bounded_float(option: str, lo: float, hi: float) -> Callable[[str], float]:
    """An argparse `type` for finite numbers in [lo, hi] (UserError otherwise)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise UserError(f"{option}: {text[:40]!r} is not a number") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise UserError(f"{option} must be between {lo:g} and {hi:g} (got {text[:40]})")
        return value

    return parse


_VERSION = re.compile(r"v?(\d{1,3})\.(\d{1,4})(?:\.(\d{1,4}))?(?:[.+-]?[A-Za-z0-9.+-]{1,40})?")


def version_arg(option: str) -> Callable[[str], str]:
    """An argparse `type` for a vLLM release like 0.11.0 or v0.10.1rc1."""

    def parse(text: str) -> str:
        raw = text.strip()
        if not _VERSION.fullmatch(raw):
            raise UserError(f"{option}: {text[:40]!r} is not a vLLM version (e.g. 0.11.0)")
        return raw.removeprefix("v")

    return parse
