"""Predict what vLLM prints at startup for a config on a GPU, before anything is downloaded.

vLLM's own arithmetic (v1/worker/gpu_worker.py determine_available_memory, utils/mem_utils.py
memory_profiling), per GPU:

    budget        = ceil(gpu_memory_utilization x total memory)      (total, not free)
    available KV  = budget - weights - activation peak - non-torch [- CUDA graphs, >= 0.21]
    blocks        = available // (block_size x bytes per token x layers per group)

Weights and KV bytes are computed exactly from the architecture; the activation peak is
derived from the tensors vLLM's profile run allocates (tui/core/memory_model.py); non-torch and
CUDA-graph memory are guesses with a band. The verdict (tui/core/estimate_verdict.py) says
"starts" / "borderline" / "wont_start" from the band's ends. docs/memory-model.md explains
every term. `estimate()` is a pipeline of named stages, each a small pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tui.core import estimate_stages as st
from tui.core.config import ServeConfig
from tui.core.engine_rules import Rules
from tui.core.estimate_stages import Inputs, model_dtype
from tui.core.estimate_text import explain, notes_for, weights_basis
from tui.core.estimate_verdict import KvEnds, Verdict, decide, kv_reason
from tui.core.gpu_catalog import GiB, GpuSpec
from tui.core.kv import KVResult
from tui.core.memory_model import PROVENANCE, PROVENANCE_TEXT, Band
from tui.core.model_facts import ModelFacts

__all__ = ["Estimate", "Target", "Term", "estimate", "explain", "model_dtype"]
from tui.core.weights import StageWeights


@dataclass(frozen=True)
class Term:
    """One line of the memory breakdown (per GPU, bytes)."""

    key: str
    label: str
    value: float
    low: float
    high: float
    basis: str
    guess: bool
    """Modelled with a band (not vLLM's own arithmetic); `provenance` says how."""
    provenance: str = "guess"
    """"vllm" (vLLM's arithmetic), "derived" (from vLLM's code) or "guess" (with band)."""

    @property
    def provenance_label(self) -> str:
        return PROVENANCE[self.provenance]

    def provenance_in(self, lang: str) -> str:
        """The provenance label in the UI's language."""
        return PROVENANCE_TEXT[self.provenance].get(lang)


@dataclass(frozen=True)
class Estimate:
    """The prediction, per GPU unless named otherwise."""

    model: str
    gpu: str
    num_gpus: int
    vllm_version: str | None
    engine: str
    total_bytes: int
    budget_bytes: int
    terms: tuple[Term, ...]
    kv_cache_bytes: int
    kv: KVResult
    kv_low: KVResult
    kv_high: KVResult
    max_model_len: int
    fits: bool
    verdict: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    rules: Rules
    kv_element_bytes: float
    cuda_graph_in_budget: bool
    state: str = "starts"
    """"starts" | "borderline" | "wont_start" (see tui/core/estimate_verdict.py)."""
    surely_fits_len: int = 0
    surely_fits_util: float | None = None
    explanation: tuple[str, ...] = ()
    """The "why this number" text (F7, `estimate` CLI): one line per stage."""

    def term(self, key: str) -> Term:
        return next(t for t in self.terms if t.key == key)

    def gib(self, key: str) -> float:
        return self.term(key).value / GiB

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "gpu": self.gpu,
            "num_gpus": self.num_gpus,
            "vllm_version": self.vllm_version,
            "engine": self.engine,
            "total_gib": r2(self.total_bytes),
            "budget_gib": r2(self.budget_bytes),
            "weights_gib": r2(self.term("weights").value),
            "activation_gib": r2(self.term("activation").value),
            "non_torch_gib": r2(self.term("non_torch").value),
            "cuda_graph_gib": r2(self.term("cuda_graph").value),
            "cuda_graph_in_budget": self.cuda_graph_in_budget,
            "kv_cache_gib": r2(self.kv_cache_bytes),
            "kv_bytes_per_token": self.kv.bytes_per_token,
            "kv_cache_dtype_bytes": self.kv_element_bytes,
            "block_size": self.kv.block_size,
            "num_gpu_blocks": self.kv.num_blocks,
            "kv_cache_tokens": self.kv.tokens,
            "max_concurrency": round(self.kv.max_concurrency, 2),
            "max_model_len": self.max_model_len,
            "max_fitting_model_len": self.kv.max_fitting_len,
            "max_num_batched_tokens": self.rules.max_num_batched_tokens,
            "max_num_seqs": self.rules.max_num_seqs,
            "fits": self.fits,
            "verdict": self.state,
            "verdict_text": self.verdict,
            "verdict_provenance": "derived from the band's ends (vLLM's arithmetic on each end)",
            "surely_fits_model_len": self.surely_fits_len,
            "surely_fits_gpu_memory_utilization": self.surely_fits_util,
            "reasons": list(self.reasons),
            "band": {
                "kv_cache_tokens": [self.kv_low.tokens, self.kv_high.tokens],
                "kv_cache_gib": [r2(self._kv_bytes_low), r2(self._kv_bytes_high)],
            },
            "terms": [
                {
                    "key": t.key,
                    "label": t.label,
                    "gib": r2(t.value),
                    "low_gib": r2(t.low),
                    "high_gib": r2(t.high),
                    "basis": t.basis,
                    "guess": t.guess,
                    "provenance": t.provenance,
                    "provenance_label": t.provenance_label,
                }
                for t in self.terms
            ],
            "notes": list(self.notes),
            "explanation": list(self.explanation),
            "provenance": {
                "budget_gib": "vllm",
                "kv_cache_tokens": "vllm",
                "num_gpu_blocks": "vllm",
                **{f"{t.key}_gib": t.provenance for t in self.terms},
            },
        }

    _kv_bytes_low: int = 0
    _kv_bytes_high: int = 0


@dataclass(frozen=True)
class Target:
    """Where the model will run."""

    gpu: GpuSpec
    num_gpus: int | None = None
    vllm_version: str | None = None
    engine: str | None = None
    entry: str = "serve"
    device: str = "cuda"
    measured: Mapping[str, float] = field(default_factory=dict)
    """Terms measured on a previous run of the same combination (bytes), used as-is."""
    flashinfer: bool | None = None
    """Whether flashinfer imports in the server's interpreter (decides the sampler path of
    0.9-0.11.0, where FlashInfer's sampler is the default when installed); None = unknown."""


def estimate(facts: ModelFacts, cfg: ServeConfig, target: Target) -> Estimate:
    """The full prediction for `cfg` on `target`: inputs -> weights -> overhead terms -> KV at
    the band's middle and ends -> verdict -> terms and explanation."""
    inp = st.inputs(
        facts,
        cfg,
        target.gpu,
        version=target.vllm_version,
        engine=target.engine,
        entry=target.entry,
        device=target.device,
        flashinfer=target.flashinfer,
    )
    weights = st.weights_per_stage(facts, cfg, inp)
    w = weights.per_stage
    if "weights" in target.measured:
        w = [target.measured["weights"]] * inp.pp
    over = st.overheads(facts, inp, weights, target.measured)
    avail = {end: st.available(inp, w, over, end) for end in ("mid", "low", "high")}
    kv = {end: st.kv_for(facts, inp, a, inp.max_model_len) for end, a in avail.items()}
    ends = KvEnds(
        kv["mid"], kv["low"], kv["high"], min(avail["mid"]), min(avail["low"]), min(avail["high"])
    )
    verdict = _verdict(facts, inp, w, over, ends, target.num_gpus)
    notes = [*inp.notes, *weights.notes, *notes_for(facts, inp, over, ends, target.measured)]
    terms = _terms(inp, w, weights.stages[0], weights.plan.label, over, ends)
    est = Estimate(
        model=facts.name,
        gpu=inp.gpu.name,
        num_gpus=target.num_gpus or inp.tp * inp.pp * inp.dp,
        vllm_version=inp.version,
        engine=inp.rules.engine,
        total_bytes=inp.gpu.total_bytes,
        budget_bytes=inp.budget,
        terms=terms,
        kv_cache_bytes=max(0, ends.avail_mid),
        kv=ends.mid,
        kv_low=ends.low,
        kv_high=ends.high,
        max_model_len=inp.max_model_len,
        fits=verdict.fits,
        verdict=verdict.sentence,
        reasons=verdict.reasons,
        notes=tuple(notes),
        rules=inp.rules,
        kv_element_bytes=inp.kv_elem,
        cuda_graph_in_budget=inp.in_budget,
        state=verdict.state,
        surely_fits_len=verdict.surely_fits_len,
        surely_fits_util=verdict.surely_fits_util,
    )
    est = replace(est, explanation=explain(est))
    return replace(
        est, _kv_bytes_low=max(0, ends.avail_low), _kv_bytes_high=max(0, ends.avail_high)
    )


def _verdict(
    facts: ModelFacts,
    inp: Inputs,
    w: list[float],
    over: st.Overheads,
    ends: KvEnds,
    num_gpus: int | None,
) -> Verdict:
    """Hard failures, why the middle of the band does not fit, and the three-state verdict
    (with the utilization that surely fits, searched at the band's pessimistic end)."""
    hard = st.hard_reasons(inp, w, over, num_gpus)
    why = None
    if max(w) <= inp.gpu.total_bytes:
        why = kv_reason(
            ends,
            engine=inp.rules.engine,
            max_model_len=inp.max_model_len,
            util=inp.util,
            explicit_kv=bool(inp.explicit_kv),
            elem=inp.kv_elem,
            weights=max(w),
            budget=inp.budget,
        )

    def at_util(u: float) -> KVResult:
        low = st.available(replace(inp, util=u), w, over, "low")
        return st.kv_for(facts, inp, low, inp.max_model_len)

    return decide(
        ends,
        hard,
        why,
        max_model_len=inp.max_model_len,
        util=inp.util,
        util_search=None if inp.explicit_kv else at_util,
    )


def _terms(
    inp: Inputs,
    w: list[float],
    first: StageWeights,
    plan_label: str,
    over: st.Overheads,
    ends: KvEnds,
) -> tuple[Term, ...]:
    wmax = max(w)
    act = max(over.activation, key=lambda b: b.value)

    def band_term(key: str, label: str, b: Band) -> Term:
        return Term(
            key, label, b.value, b.low, b.high, b.basis, b.provenance != "vllm", b.provenance
        )

    kv_basis = "--kv-cache-memory-bytes" if inp.explicit_kv else "what is left of the budget"
    return (
        Term(
            "weights",
            "Weights",
            wmax,
            wmax * (1 - st.WEIGHTS_BAND),
            wmax * (1 + st.WEIGHTS_BAND),
            weights_basis(plan_label, first, inp.tp, inp.pp),
            False,
            "derived",
        ),
        band_term("activation", "Activation peak", act),
        band_term("non_torch", "Non-torch (NCCL, buffers)", over.non_torch),
        band_term("cuda_graph", "CUDA graphs", over.cuda_graph),
        Term(
            "kv_cache",
            "KV cache",
            float(ends.avail_mid),
            float(ends.avail_low),
            float(ends.avail_high),
            kv_basis,
            False,
            "vllm",
        ),
    )


def r2(value: float) -> float:
    """GiB, three decimals (the JSON's unit)."""
    return round(value / GiB, 3)
