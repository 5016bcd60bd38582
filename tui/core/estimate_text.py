"""The words of an estimate: the notes under the figures and the "why this number"
explanation (F7, `vllm-tui estimate`), each figure with its provenance label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tui.core import estimate_stages as st
from tui.core.estimate_stages import Inputs
from tui.core.estimate_verdict import KvEnds
from tui.core.gpu_catalog import GiB
from tui.core.memory_model import PROVENANCE
from tui.core.model_facts import ModelFacts
from tui.core.weights import StageWeights

if TYPE_CHECKING:
    from tui.core.estimate import Estimate


def notes_for(
    facts: ModelFacts,
    inp: Inputs,
    over: st.Overheads,
    ends: KvEnds,
    measured: Mapping[str, float],
) -> list[str]:
    notes: list[str] = []
    rules = inp.rules
    graph = over.cuda_graph.value
    if "weights" in measured:
        notes.append("weights: measured on your earlier run of this combination")
    if inp.explicit_kv:
        notes.append(
            "--kv-cache-memory-bytes set: the KV cache size ignores --gpu-memory-utilization"
        )
    elif graph and not inp.in_budget and inp.budget + graph > inp.gpu.total_bytes:
        notes.append(
            f"CUDA graphs (~{graph / GiB:.2f} GiB) are captured outside the budget in this vLLM; "
            "budget + graphs exceeds the GPU: capture may OOM (lower utilization or --enforce-eager)"
        )
    where = (
        "CUDA graphs counted inside the budget"
        if inp.in_budget
        else "CUDA graphs outside the budget"
        if graph
        else "no CUDA graphs"
    )
    notes.append(
        f"vLLM {inp.version or 'newest known'} ({rules.engine}): profile batch "
        f"{rules.profile_tokens:,} tokens / {rules.profile_seqs} requests "
        f"(max_num_batched_tokens / max_num_seqs for {inp.gpu.name}); block size "
        f"{rules.block_size}; {where}"
    )
    if inp.gpu.unified_memory:
        notes.append(
            "unified memory: the budget is a fraction of what CUDA reports as total (the shared "
            "system RAM); vLLM's startup check compares it with the host's available RAM "
            "(psutil), so memory other programs hold counts against it"
        )
    if facts.best_effort:
        notes.append("unknown architecture: best-effort estimate from generic transformer formulas")
    if ends.mid.padding_layers:
        notes.append(
            f"hybrid attention: {ends.mid.groups} KV groups, {ends.mid.padding_layers} padding "
            "layer(s) as vLLM adds"
        )
    return notes


def g(value: float) -> str:
    """GiB, two decimals (the explanation's unit)."""
    return f"{value / GiB:.2f}"


def explain(est: Estimate) -> tuple[str, ...]:
    """The "why this number" text: each stage with its figure, band and provenance."""
    lines = [
        f"budget = {est.budget_bytes / est.total_bytes:.2f} x {g(est.total_bytes)} GiB total = "
        f"{g(est.budget_bytes)} GiB [{PROVENANCE['vllm']}]"
    ]
    for t in est.terms:
        band = f" (band {g(t.low)}–{g(t.high)})" if t.low != t.high else ""
        lines.append(f"{t.label}: {g(t.value)} GiB{band} [{t.provenance_label}]: {t.basis}")
    kv = est.kv
    minus = " − CUDA graphs" if est.cuda_graph_in_budget else ""
    lines += [
        f"KV cache = budget − weights − activation − non-torch{minus} [{PROVENANCE['vllm']}]",
        f"blocks = KV bytes // (block {kv.block_size} x {kv.bytes_per_token:,} B/token) = "
        f"{kv.num_blocks:,}; tokens {kv.tokens:,} (band {est.kv_low.tokens:,}–"
        f"{est.kv_high.tokens:,}) [{PROVENANCE['vllm']}]",
        "verdict: starts if the band's pessimistic end fits, won't start if even its optimistic "
        "end fails, else borderline",
    ]
    return tuple(lines)


def weights_basis(label: str, stage: StageWeights, tp: int, pp: int) -> str:
    split = []
    if tp > 1:
        split.append(f"TP {tp}")
    if pp > 1:
        split.append(f"PP {pp}")
    how = f" split by {' x '.join(split)}" if split else ""
    return f"{label}{how}; exact from the architecture"
