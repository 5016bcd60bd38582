"""Recognise vLLM's failure messages and turn each into a diagnosis with a concrete fix.

A diagnosis names the flag to change and a value (e.g. `--max-model-len 122080`), explains
why, and says whether the failure is fatal for startup. Generic wrappers such as "Engine core
initialization failed" are recognised too, but rank below the root cause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    message: str
    flag: str | None = None
    suggestion: str | None = None
    explanation: str = ""
    fix: dict[str, Any] = field(default_factory=dict)
    """Config changes that address it ({dest: value}); env changes under key 'env'."""
    fatal: bool = True
    rank: int = 50
    """Higher = more specific root cause (generic wrappers are low)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "flag": self.flag,
            "suggestion": self.suggestion,
            "explanation": self.explanation,
            "fix": self.fix,
            "fatal": self.fatal,
        }


_N = r"([\d,]+(?:\.\d+)?)"


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _kv_old(m: re.Match[str]) -> Diagnosis:
    wanted, fits = int(_num(m.group(1))), int(_num(m.group(2)))
    return Diagnosis(
        "kv_cache_too_small",
        m.group(0),
        "--max-model-len",
        f"--max-model-len {fits}",
        f"One request of {wanted:,} tokens needs more KV cache than the {fits:,} tokens that fit. Lower "
        f"--max-model-len to {fits} or less, raise --gpu-memory-utilization, or use --kv-cache-dtype fp8 "
        "(about twice the tokens).",
        {"max_model_len": fits},
        rank=90,
    )


def _kv_new(m: re.Match[str]) -> Diagnosis:
    wanted = int(_num(m.group(1)))
    need, have = _num(m.group(2)), _num(m.group(3))
    est = m.group(4)
    if est:
        fits = int(_num(est))
        return Diagnosis(
            "kv_cache_too_small",
            m.group(0),
            "--max-model-len",
            f"--max-model-len {fits}",
            f"A {wanted:,}-token request needs {need:g} GiB of KV cache but only {have:g} GiB is left after "
            f"weights and activations. vLLM estimates {fits:,} tokens fit: use --max-model-len {fits}, or raise "
            "--gpu-memory-utilization, or halve the KV size with --kv-cache-dtype fp8.",
            {"max_model_len": fits},
            rank=90,
        )
    return Diagnosis(
        "kv_cache_too_small",
        m.group(0),
        "--gpu-memory-utilization",
        "raise --gpu-memory-utilization or lower --max-model-len",
        f"A {wanted:,}-token request needs {need:g} GiB of KV cache; only {have:g} GiB is available.",
        rank=85,
    )


def _no_blocks(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "no_kv_memory",
        m.group(0),
        "--gpu-memory-utilization",
        "raise --gpu-memory-utilization (e.g. +0.05), use more GPUs (-tp), or quantize the weights",
        "Weights plus the activation peak already use the whole budget (utilization x total memory), so "
        "nothing is left for the KV cache.",
        rank=80,
    )


def _free_low(m: re.Match[str]) -> Diagnosis:
    free, total, util = _num(m.group(1)), _num(m.group(2)), _num(m.group(3))
    fits = math.floor((free / total - 0.01) * 100) / 100 if total else 0.0
    return Diagnosis(
        "free_memory_low",
        m.group(0),
        "--gpu-memory-utilization",
        f"--gpu-memory-utilization {fits:.2f}" if fits > 0 else "free the GPU",
        f"Only {free:g} of {total:g} GiB is free but the budget asks for {util:g} x total. Another process holds "
        f"GPU memory: stop it, pick another GPU, or lower the utilization to {fits:.2f}.",
        {"gpu_memory_utilization": fits} if fits > 0 else {},
        rank=85,
    )


def _oom(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "cuda_oom",
        m.group(0),
        "--gpu-memory-utilization",
        "lower --gpu-memory-utilization by 0.05, or --max-num-seqs / --max-num-batched-tokens, or add --enforce-eager",
        "The GPU ran out of memory outside vLLM's budget (often CUDA-graph capture or another process). "
        "Leaving more headroom or skipping CUDA graphs usually fixes it.",
        rank=70,
    )


def _tp_heads(m: re.Match[str]) -> Diagnosis:
    heads, tp = int(m.group(1)), int(m.group(2))
    valid = [d for d in range(1, max(tp, 8) + 1) if heads % d == 0]
    best = max(d for d in valid if d <= tp)
    return Diagnosis(
        "tp_heads",
        m.group(0),
        "--tensor-parallel-size",
        f"--tensor-parallel-size {best}",
        f"The {heads} attention heads must split evenly across GPUs. Valid TP sizes: {', '.join(map(str, valid))}.",
        {"tensor_parallel_size": best},
        rank=95,
    )


def _max_len(m: re.Match[str]) -> Diagnosis:
    wanted, derived = int(_num(m.group(1))), int(_num(m.group(2)))
    return Diagnosis(
        "max_len_above_derived",
        m.group(0),
        "--max-model-len",
        f"--max-model-len {derived}",
        f"The model was trained for {derived:,} positions; {wanted:,} is more. Use --max-model-len {derived}, or set "
        "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 to force it (outputs past the trained length may be garbage).",
        {"max_model_len": derived},
        rank=95,
    )


def _bf16(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "bf16_unsupported",
        m.group(0),
        "--dtype",
        "--dtype half",
        "This GPU (compute capability < 8.0, e.g. T4 or V100) has no bfloat16. Run the model in float16.",
        {"dtype": "half"},
        rank=95,
    )


def _quant(
    kind: str, suggestion: str, explanation: str, fix: dict[str, Any] | None = None
) -> Callable[[re.Match[str]], Diagnosis]:
    def make(m: re.Match[str]) -> Diagnosis:
        return Diagnosis(
            kind, m.group(0), "--quantization", suggestion, explanation, fix or {}, rank=90
        )

    return make


def _arch(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "arch_unsupported",
        m.group(0),
        None,
        "upgrade vLLM, or check the model id; --trust-remote-code only helps for repos with custom code",
        "This vLLM does not implement the model's architecture.",
        rank=90,
    )


def _auth(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "hf_auth",
        m.group(0),
        "--hf-token",
        "set --hf-token (or HF_TOKEN) with a token that accepted the model's licence",
        "The model is gated or private on Hugging Face: accept its licence on the model page and give a token "
        "with read access.",
        rank=90,
    )


def _port(m: re.Match[str]) -> Diagnosis:
    port = re.search(r"(?:port |:|', )(\d{2,5})\b", m.string)
    value = int(port.group(1)) + 1 if port else None
    return Diagnosis(
        "port_in_use",
        m.group(0),
        "--port",
        f"--port {value}" if value else "choose a free --port",
        "Another process already listens on this port (maybe an earlier vLLM).",
        {"port": value} if value else {},
        rank=90,
    )


def _unknown_flag(m: re.Match[str]) -> Diagnosis:
    flags = re.findall(r"--[\w-]+", m.group(1))
    first = flags[0] if flags else None
    return Diagnosis(
        "unknown_flag",
        m.group(0),
        first,
        f"remove {first}" if first else "remove the unknown arguments",
        "This vLLM version does not accept these arguments (renamed or removed in this release).",
        rank=95,
    )


def _trust(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "trust_remote_code",
        m.group(0),
        "--trust-remote-code",
        "--trust-remote-code",
        "The model repo ships its own Python code; allow it only if you trust the repo.",
        {"trust_remote_code": True},
        rank=90,
    )


def _no_gpu(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "no_gpu",
        m.group(0),
        None,
        "check CUDA_VISIBLE_DEVICES and the driver (vllm-tui gpus)",
        "vLLM sees no usable GPU in this environment.",
        rank=85,
    )


def _generic(kind: str, rank: int) -> Callable[[re.Match[str]], Diagnosis]:
    def make(m: re.Match[str]) -> Diagnosis:
        return Diagnosis(
            kind,
            m.group(0),
            None,
            None,
            "vLLM stopped during startup; the root cause is usually logged just above.",
            rank=rank,
        )

    return make


def _mnbt(m: re.Match[str]) -> Diagnosis:
    mml = int(_num(m.group(2)))
    return Diagnosis(
        "batched_tokens_too_small",
        m.group(0),
        "--max-num-batched-tokens",
        f"--max-num-batched-tokens {mml}",
        "Without chunked prefill a whole prompt must fit in one batch; raise the batch budget or enable chunked prefill.",
        {"max_num_batched_tokens": mml},
        rank=90,
    )


PATTERNS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], Diagnosis]], ...] = tuple(
    (needle, re.compile(p), make)
    for needle, p, make in (
        (
            "stored in KV cache",
            r"max seq len \("
            + _N
            + r"\) is larger than the maximum number of tokens that can be stored in KV cache \("
            + _N
            + r"\)",
            _kv_old,
        ),
        (
            "KV cache is needed",
            r"max seq len \("
            + _N
            + r"\), \("
            + _N
            + r" GiB KV cache is needed, which is larger than the available KV cache memory \("
            + _N
            + r" GiB\)\.(?: Based on the available memory, the estimated maximum model length is "
            + _N
            + r")?",
            _kv_new,
        ),
        (
            "No available memory for the cache blocks",
            r"No available memory for the cache blocks",
            _no_blocks,
        ),
        (
            "Free memory on device",
            r"Free memory on device(?: \S+)? \("
            + _N
            + "/"
            + _N
            + r" GiB\) on startup is less than (?:desired GPU memory utilization |the engine's budget[^(]*)\("
            + _N,
            _free_low,
        ),
        ("out of memory", r"(?:(?:CUDA|HIP) out of memory|OutOfMemoryError)[^\n]*", _oom),
        (
            "must be divisible by tensor parallel size",
            r"number of attention heads \("
            + _N
            + r"\) must be divisible by tensor parallel size \("
            + _N
            + r"\)",
            _tp_heads,
        ),
        (
            "derived max_model_len",
            r"max_model_len \("
            + _N
            + r"\) is greater than the derived max_model_len \((?:max_position_embeddings=)?"
            + _N,
            _max_len,
        ),
        (
            "Bfloat16 is only supported",
            r"Bfloat16 is only supported on GPUs with compute capability of at least 8\.0[^\n]*",
            _bf16,
        ),
        (
            "does not match the quantization method",
            r"Quantization method specified in the model config \((\w[\w-]*)\) does not match[^\n]*",
            _quant(
                "quant_mismatch",
                "remove --quantization (the checkpoint is already quantized)",
                "The checkpoint's own quantization conflicts with --quantization.",
                {"quantization": None},
            ),
        ),
        (
            "Unknown quantization method",
            r"Unknown quantization method: ([\w-]+)[^\n]*",
            _quant(
                "quant_unsupported",
                "use a method this vLLM knows (vllm-tui flags --all)",
                "This vLLM does not know that quantization method.",
                {"quantization": None},
            ),
        ),
        (
            "is not supported for the current GPU",
            r"The quantization method ([\w-]+) is not supported for the current GPU[^\n]*",
            _quant(
                "quant_unsupported",
                "use a quantization your GPU supports, or another GPU",
                "The GPU is too old for this quantization's kernels.",
                {"quantization": None},
            ),
        ),
        (
            "are not supported for now",
            r"Model architectures? \[?'?([\w]+)'?\]? (?:are|is) not supported[^\n]*",
            _arch,
        ),
        (
            "gated repo",
            r"(?:Cannot access gated repo|You are trying to access a gated repo|GatedRepoError)[^\n]*",
            _auth,
        ),
        ("401 Client Error", r"401 Client Error[^\n]*", _auth),
        ("Invalid credentials", r"Invalid credentials in Authorization header[^\n]*", _auth),
        (
            "already in use",
            r"(?:\[Errno 98\] )?(?:error while attempting to bind on address[^:]*: )?\[?[^\n]*[Aa]ddress already in use[^\n]*",
            _port,
        ),
        ("unrecognized arguments", r"unrecognized arguments: ([^\n]+)", _unknown_flag),
        (
            "trust_remote_code",
            r"(?:set the option `trust_remote_code=True`|Please pass the argument `trust_remote_code=True`)[^\n]*",
            _trust,
        ),
        ("No CUDA GPUs are available", r"No CUDA GPUs are available", _no_gpu),
        ("Failed to infer device type", r"Failed to infer device type[^\n]*", _no_gpu),
        (
            "is smaller than max_model_len",
            r"max_num_batched_tokens \(" + _N + r"\) is smaller than max_model_len \(" + _N + r"\)",
            _mnbt,
        ),
        (
            "Engine core initialization failed",
            r"Engine core initialization failed[^\n]*",
            _generic("engine_failed", 10),
        ),
        (
            "EngineCore failed to start",
            r"EngineCore failed to start[^\n]*",
            _generic("engine_failed", 10),
        ),
        (
            "Engine process failed to start",
            r"Engine process failed to start[^\n]*",
            _generic("engine_failed", 10),
        ),
    )  # fmt: skip
)
# Ray's failures live in their own module (it needs Diagnosis, defined above).
from tui.core.diagnose_ray import RAY_PATTERNS  # noqa: E402

PATTERNS = PATTERNS + RAY_PATTERNS
_NEEDLES = tuple(p[0] for p in PATTERNS)


def diagnose(message: str) -> Diagnosis | None:
    """The diagnosis for one log message, or None if it is not a failure we know."""
    if not any(needle in message for needle in _NEEDLES):
        return None
    for needle, pattern, make in PATTERNS:
        if needle in message:
            m = pattern.search(message)
            if m:
                return make(m)
    return None

NEEDLES = _NEEDLES
"""Substrings one of which every diagnosable message holds (the log prefilter uses them)."""
