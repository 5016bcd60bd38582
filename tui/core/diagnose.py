"""Recognise vLLM's failure messages and turn each into a diagnosis with a concrete fix.

A diagnosis names the flag to change and a value (e.g. `--max-model-len 122080`), explains
why, and says whether the failure is fatal for startup. Generic wrappers such as "Engine core
initialization failed" are recognised too, but rank below the root cause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.catalog.spec import Text
from tui.core.fix import Fix


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    message: str
    flag: str | None = None
    suggestion: str | None = None
    explanation: str = ""
    fix: Fix | None = None
    """The shared Fix (flags and env to set, bilingual label); a {dest: value} dict given here
    (older call sites) is turned into one."""
    fatal: bool = True
    rank: int = 50
    """Higher = more specific root cause (generic wrappers are low)."""
    value: Any = None
    """The offending value the message named (e.g. 0.999 for the utilization), when it did."""

    def __post_init__(self) -> None:
        if isinstance(self.fix, Mapping):
            object.__setattr__(self, "fix", fix_from_dict(self.fix, self.suggestion))

    def as_json(self) -> dict[str, Any]:
        fix = self.fix
        changes: dict[str, Any] = dict(fix.set) if fix else {}
        if fix and fix.env:
            changes["env"] = dict(fix.env)
        return {
            "kind": self.kind,
            "message": self.message,
            "flag": self.flag,
            "value": self.value,
            "suggestion": self.suggestion,
            "explanation": self.explanation,
            "fix": changes,
            "fix_label": {"en": fix.label.en, "ja": fix.label.ja} if fix else None,
            "fatal": self.fatal,
        }


def fix_from_dict(changes: Mapping[str, Any], suggestion: str | None = None) -> Fix | None:
    """A Fix from {dest: value} (env under "env"); None when it changes nothing."""
    env = changes.get("env") or {}
    values = tuple((k, v) for k, v in changes.items() if k != "env")
    if not values and not env:
        return None
    return set_fix(values, tuple((str(k), str(v)) for k, v in env.items()))


def set_fix(values: tuple[tuple[str, Any], ...], env: tuple[tuple[str, str], ...] = ()) -> Fix:
    """The Fix that sets these flags (None = remove the flag) and environment, labelled."""
    en: list[str] = []
    ja: list[str] = []
    for dest, value in values:
        flag = "--" + dest.replace("_", "-")
        if value is None:
            en.append(f"remove {flag}")
            ja.append(f"{flag} を外す")
        else:
            shown = "" if value is True else f" {value}"
            en.append(f"set {flag}{shown}")
            ja.append(f"{flag}{shown} を指定する")
    for key, value in env:
        en.append(f"set {key}={value}")
        ja.append(f"環境変数 {key}={value} を設定する")
    label = "; ".join(en)
    return Fix(Text(label[:1].upper() + label[1:], "、".join(ja)), values, env)


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
        set_fix((("max_model_len", fits),)),
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
            set_fix((("max_model_len", fits),)),
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


def _bf16(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "bf16_unsupported",
        m.group(0),
        "--dtype",
        "--dtype half",
        "This GPU (compute capability < 8.0, e.g. T4 or V100) has no bfloat16. Run the model in float16.",
        set_fix((("dtype", "half"),)),
        rank=95,
    )


def _quant(
    kind: str, suggestion: str, explanation: str, fix: Fix | None = None
) -> Callable[[re.Match[str]], Diagnosis]:
    def make(m: re.Match[str]) -> Diagnosis:
        return Diagnosis(
            kind,
            m.group(0),
            "--quantization",
            suggestion,
            explanation,
            fix,
            rank=90,
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
        set_fix((("trust_remote_code", True),)),
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
        set_fix((("max_num_batched_tokens", mml),)),
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
        ("out of memory", r"(?:(?:CUDA|HIP) out of memory|OutOfMemoryError)[^\n]*", _oom),
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
                set_fix((("quantization", None),)),
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
# Meaning-based rules and Ray's failures live in their own modules (they need Diagnosis).
from tui.core.diagnose_meaning import RULES  # noqa: E402
from tui.core.diagnose_ray import RAY_PATTERNS  # noqa: E402

PATTERNS = PATTERNS + RAY_PATTERNS
_NEEDLES = tuple(p[0] for p in PATTERNS)


def diagnose(message: str, args: Mapping[str, str] | None = None) -> Diagnosis | None:
    """The diagnosis for one log message, or None if it is not a failure we know.

    Meaning-based rules first (they survive rewording), then the specific sentences. `args`:
    the server's non-default arguments from earlier in the log (names the flag a value came
    from when the message only names the value)."""
    if not any(needle in message for needle in NEEDLES):
        return None
    for needles, read in RULES:
        if any(needle in message for needle in needles):
            found = read(message, args or {})
            if found is not None:
                return found
    for needle, pattern, make in PATTERNS:
        if needle in message:
            m = pattern.search(message)
            if m:
                return make(m)
    return None


NEEDLES = tuple(n for needles, _ in RULES for n in needles) + _NEEDLES
"""Substrings one of which every diagnosable message holds (the log prefilter uses them)."""
