"""The verdict, honest about the band: "starts" only when the pessimistic end of every guessed
term still fits; "wont_start" only when even the optimistic end fails (or something no band
can fix: too few GPUs, weights larger than the GPU, vLLM's free-memory check); otherwise
"borderline", with the largest --max-model-len (and the utilization) that surely fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.core.gpu_catalog import GiB
from tui.core.kv import KVResult

STARTS, BORDERLINE, WONT_START = "starts", "borderline", "wont_start"


@dataclass(frozen=True)
class KvEnds:
    """KV capacity at the middle and at both ends of the band (low = pessimistic)."""

    mid: KVResult
    low: KVResult
    high: KVResult
    avail_mid: int
    avail_low: int
    avail_high: int


@dataclass(frozen=True)
class Verdict:
    state: str
    fits: bool
    """As before the band existed: the middle of the band fits (always true for "starts")."""
    reasons: tuple[str, ...]
    sentence: str
    surely_fits_len: int
    """Largest --max-model-len that fits at the pessimistic end (0: none)."""
    surely_fits_util: float | None
    """Smallest --gpu-memory-utilization at which this max-model-len surely fits (None: none
    up to 0.99, or not needed)."""


def kv_reason(
    ends: KvEnds,
    *,
    engine: str,
    max_model_len: int,
    util: float,
    explicit_kv: bool,
    elem: float,
    weights: float,
    budget: int,
) -> str | None:
    """Why the middle of the band does not fit (None when it does)."""
    mid = ends.mid
    if not explicit_kv and ends.avail_mid <= 0:
        return (
            f"no memory left for the KV cache: weights {weights / GiB:.1f} GiB + overheads exceed "
            f"the {budget / GiB:.1f} GiB budget (utilization {util:g}): raise "
            "--gpu-memory-utilization, raise TP, or quantize"
        )
    if mid.fits:
        return None
    if engine == "V0":
        return (
            f"max-model-len {max_model_len:,} is larger than the {mid.tokens:,} tokens the KV cache "
            f"holds: use --max-model-len {mid.max_fitting_len} or less"
        )
    options = [f"--max-model-len {mid.max_fitting_len}"] if mid.max_fitting_len else []
    if util < 0.95 and not explicit_kv:
        options.append("a higher --gpu-memory-utilization")
    if elem > 1:
        options.append("--kv-cache-dtype fp8 (about twice the tokens)")
    options.append("more GPUs (--tensor-parallel-size)")
    return (
        f"one request of {max_model_len:,} tokens does not fit in the KV cache (the largest that "
        f"fits is {mid.max_fitting_len:,}); use " + ", or ".join(options)
    )


def decide(
    ends: KvEnds,
    hard: list[str],
    kv_why: str | None,
    *,
    max_model_len: int,
    util: float,
    util_search: Callable[[float], KVResult] | None,
) -> Verdict:
    """Three states from the hard reasons and the KV capacity at the band's ends."""
    reasons = tuple(hard + ([kv_why] if kv_why else []))
    fits = not reasons
    low_ok = ends.low.fits and ends.avail_low > 0
    high_ok = ends.high.fits and ends.avail_high > 0
    surely_len = ends.low.max_fitting_len if ends.avail_low > 0 else 0
    if hard or not high_ok:
        state = WONT_START
    elif low_ok:
        state = STARTS
    else:
        state = BORDERLINE
    surely_util = _surely_util(util, util_search) if state == BORDERLINE else None
    mid = ends.mid
    if state == STARTS:
        sentence = (
            f"starts: {mid.tokens:,} KV tokens, {mid.max_concurrency:.2f}x concurrent requests "
            f"of {max_model_len:,} tokens"
        )
    elif state == WONT_START:
        sentence = "fails: " + (reasons[0] if reasons else "no KV cache even at the band's best")
    else:
        sure = (
            f"--max-model-len {surely_len:,} surely fits" if surely_len else "no length surely fits"
        )
        util_text = (
            f", or --gpu-memory-utilization {surely_util:.2f}" if surely_util is not None else ""
        )
        sentence = (
            f"borderline: {max_model_len:,} tokens fit at the band's optimistic end "
            f"({ends.high.tokens:,} KV tokens) but not at its pessimistic end "
            f"({ends.low.tokens:,}); {sure}{util_text}"
        )
        if reasons:
            sentence += f" ({reasons[0]})"
    return Verdict(state, fits, reasons, sentence, surely_len, surely_util)


def _surely_util(util: float, search: Callable[[float], KVResult] | None) -> float | None:
    if search is None:
        return None
    step = 0.01
    u = round(util + step, 2)
    while u <= 0.99:
        if search(u).fits:
            return u
        u = round(u + step, 2)
    return None
