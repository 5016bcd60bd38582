"""Estimator vs real vLLM startup logs (the dev cases in tests/data). Prints numbers; asserts nothing.

For every case: build a config.json folder from the architecture facts, run the same code path
as `vllm-tui estimate`, and compare with what vLLM printed:
  - weights per GPU (GiB) and available KV cache per GPU (GiB): absolute % error;
  - token exactness: given the KV GiB vLLM reported (as --kv-cache-memory-bytes), do we
    print the same "KV cache size" tokens? (exact within the 0.01 GiB rounding of the log);
  - verdict: starts / borderline / wont_start; a run that started must never be "wont_start"
    and a run that failed never "starts" (borderline is a hedge, counted separately);
  - per-term error (activation peak, non-torch, CUDA graphs) where the log prints the breakdown;
  - leave-one-release-family-out: the constants that are measurements from logs (the
    non-torch terms) re-derived from the other families' logs, then scored on the held-out one.
Cases whose GPU size is unknown or unified (Jetson/GB10) are used for weights and tokens only.
Extra cases (tests/data/vllm-memory-cases.extra.json, when present) are scored separately.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dev_cases import EXTRA, Case, load_cases, write_model_dir  # noqa: E402

from tui.adapters.model_source import facts_from_dir  # noqa: E402
from tui.core import memory_model as mm  # noqa: E402
from tui.core.estimate import Estimate, Target, estimate  # noqa: E402
from tui.core.gpu_catalog import GiB, GpuSpec, custom_gpu, find_gpu  # noqa: E402
from tui.core.importer import parse_args  # noqa: E402
from tui.core.model_facts import ModelFacts  # noqa: E402
from tui.core.plan import plan  # noqa: E402
from tui.core.versions import parse_version  # noqa: E402

# Runs that failed at startup, as the cases record them. An entry with extra flags is a second
# run the case mentions (only max-model-len known to differ): reported separately, since the
# other settings of that run are not in the log.
FAILED_RUNS = {
    "case_07": ["--max-model-len", "131072"],  # "max seq len (131072) is larger than ... (41200)"
    "case_24": [],
    "case_30": ["--max-model-len", "221000"],  # "estimated maximum model length is 122080"
    "case_32": [],
}
NAMED_GPUS = ("A100 80GB", "A100 40GB", "L40S", "L4 24GB", "H100", "V100", "RTX 3090", "RTX 4070")


def gpu_for(case: Case) -> tuple[GpuSpec | None, str]:
    """The case's GPU: the catalog's part (compute capability, NVLink) at the log's total."""
    text = case.gpu_name
    named = next((find_gpu(n) for n in NAMED_GPUS if n.lower() in text.lower()), None)
    if case.gpu_gib:
        if named is not None:
            return replace(named, name=text, total_bytes=int(case.gpu_gib * GiB)), "log"
        return custom_gpu(case.gpu_gib, text), "log"
    if "unified" in text.lower() or "GB10" in text or "Jetson" in text:
        return None, "unified memory: budget follows system RAM"
    if named is not None:
        return named, "catalog"
    return None, "GPU not stated"


def pct(ours: float, theirs: float) -> float:
    return abs(ours - theirs) / theirs * 100.0


@dataclass
class Scored:
    case: Case
    facts: ModelFacts
    est: Estimate
    gpu: GpuSpec | None
    gpu_note: str
    state: str | None = None

    @property
    def kv_err(self) -> float | None:
        r = self.case.raw
        if self.gpu is None or not r.get("kv_cache_gib"):
            return None
        return pct(self.est.kv_cache_bytes / GiB, r["kv_cache_gib"])


def score_case(case: Case, tmp: Path) -> Scored:
    facts = facts_from_dir(write_model_dir(case, tmp), name=case.raw["model"])
    cfg = parse_args([case.raw["model"], *case.flags])
    gpu, note = gpu_for(case)
    target = Target(
        gpu=gpu or custom_gpu(80.0),
        vllm_version=case.version,
        engine=case.engine,
        entry=case.entry,
        flashinfer=case.flashinfer,
    )
    scored = Scored(case, facts, estimate(facts, cfg, target), gpu, note)
    if gpu is not None:
        world = int(cfg.get("tensor_parallel_size")) * int(cfg.get("pipeline_parallel_size"))
        got = plan(facts, cfg, (gpu,) * max(1, world), planning=True, vllm_version=case.version,
                   engine=case.engine, entry=case.entry, flashinfer=case.flashinfer).estimate  # fmt: skip
        scored.state = got.state if got is not None else None
    return scored


def score_all(cases: list[Case]) -> list[Scored]:
    with tempfile.TemporaryDirectory() as tmp:
        return [score_case(c, Path(tmp)) for c in cases if not c.skip]


def token_row(s: Scored) -> tuple[str, bool | None]:
    r, case = s.case.raw, s.case
    want = r.get("kv_cache_tokens")
    cfg = parse_args([r["model"], *case.flags])
    target = Target(
        gpu=s.gpu or custom_gpu(80.0), vllm_version=case.version, engine=case.engine,
        entry=case.entry,
    )  # fmt: skip
    if want and r.get("kv_cache_gib"):
        lo = _tokens(s.facts, cfg, target, r["kv_cache_gib"] - 0.005)
        hi = _tokens(s.facts, cfg, target, r["kv_cache_gib"] + 0.005)
        ok = lo <= want <= hi
        return f"{want:>9,} in [{lo:,}, {hi:,}] {'exact' if ok else 'MISS'}", ok
    if want and r.get("gpu_blocks"):
        ok = int(r["gpu_blocks"]) * s.est.kv.block_size == want
        return f"{want:>9,} = blocks x {s.est.kv.block_size} {'exact' if ok else 'MISS'}", ok
    return "", None


def verdict_right(s: Scored) -> bool | None:
    """A started run must not be "wont_start"; a failed one must not be "starts"."""
    if s.state is None:
        return None
    failed = s.case.id in FAILED_RUNS and not FAILED_RUNS[s.case.id]
    return s.state != "starts" if failed else s.state != "wont_start"


def print_table(scored: list[Scored]) -> dict[str, Any]:
    w_err: list[float] = []
    kv_err: list[float] = []
    toks: list[bool] = []
    verdicts: list[bool] = []
    states: dict[str, int] = {}
    print(f"{'case':9} {'vLLM':7} {'eng':3}  {'weights GiB':22} {'available KV GiB':24} "
          f"{'tokens from reported KV':42} verdict")  # fmt: skip
    for s in scored:
        r = s.case.raw
        w = kv = ""
        if r.get("weights_gib"):
            e = pct(s.est.gib("weights"), r["weights_gib"])
            w_err.append(e)
            w = f"{s.est.gib('weights'):6.2f}/{r['weights_gib']:<6.2f} {e:4.1f}%"
        if s.kv_err is not None:
            kv_err.append(s.kv_err)
            kv = f"{s.est.kv_cache_bytes / GiB:6.2f}/{r['kv_cache_gib']:<6.2f} {s.kv_err:5.1f}%"
        elif r.get("kv_cache_gib"):
            kv = f"  (skip: {s.gpu_note})"
        tok, ok = token_row(s)
        if ok is not None:
            toks.append(ok)
        right = verdict_right(s)
        verdict = ""
        if right is not None and s.state is not None:
            verdicts.append(right)
            states[s.state] = states.get(s.state, 0) + 1
            verdict = f"{s.state:10} ({'right' if right else 'WRONG'})"
        print(
            f"{s.case.id:9} {s.case.version or '?':7} {s.est.engine:3}  {w:22} {kv:24} {tok:42} {verdict}"
        )
    return {"w": w_err, "kv": kv_err, "tok": toks, "verdicts": verdicts, "states": states}


def print_terms(scored: list[Scored]) -> None:
    """Per-term error where the log prints vLLM's own breakdown."""
    keys = (("activation", "activation_peak_gib"), ("non_torch", "non_torch_gib"),
            ("cuda_graph", "cuda_graph_gib"))  # fmt: skip
    print("\nPer-term error where the log prints the breakdown (ours / vLLM's, GiB)")
    errs: dict[str, list[float]] = {k: [] for k, _ in keys}
    for s in scored:
        cells = []
        for key, field in keys:
            theirs = s.case.raw.get(field)
            # A negative "CUDA graph" column is a memory delta during capture, not a pool size.
            if theirs is None or theirs <= 0 or (key == "cuda_graph" and not s.est.gib(key)):
                cells.append(f"{key} {'-':>13}")
                continue
            ours = s.est.gib(key)
            errs[key].append(abs(ours - theirs))
            cells.append(f"{key} {ours:5.2f}/{theirs:<5.2f}")
        if any("/" in c for c in cells):
            print(f"  {s.case.id:9} {s.case.version or '?':7} " + "  ".join(cells))
    for key, values in errs.items():
        _summary(f"  {key} |error| GiB", values, unit="")


# Which release families' logs each per-release non-torch row was measured on (see
# tui/core/memory_model.py). Holding a family out drops the rows only it measured.
ROW_SOURCES = {
    ("NON_TORCH_BASE", "0.6.5"): {"V0 (<=0.8)", "0.10"},
    ("NON_TORCH_BASE", "0.11.0"): {"0.11", "0.15", "0.16", "0.17"},
    ("NON_TORCH_BASE", "0.18.0"): {"0.18", "0.19"},
    ("NON_TORCH_NVLINK", "0.6.5"): {"0.10"},
    ("NON_TORCH_NVLINK", "0.11.0"): {"0.11"},
    ("NON_TORCH_NVLINK", "0.19.0"): {"0.19"},
    ("NON_TORCH_PCIE", "0.6.5"): {"0.10"},
}


def family(case: Case) -> str:
    v = parse_version(case.version)
    if case.engine == "V0" or (v is not None and v < (0, 8, 0)):
        return "V0 (<=0.8)"
    return f"{v[0]}.{v[1]}" if v is not None else "unknown"


def tables_without(fam: str) -> dict[str, tuple[tuple[str, float], ...]]:
    """The non-torch tables with the rows measured only on `fam` removed; a table left empty
    borrows the remaining rows of the NVLink table (the nearest measurement there is)."""
    out: dict[str, tuple[tuple[str, float], ...]] = {}
    for name in ("NON_TORCH_BASE", "NON_TORCH_NVLINK", "NON_TORCH_PCIE"):
        rows = tuple(
            (since, v) for since, v in getattr(mm, name)
            if not ROW_SOURCES.get((name, since), set()) <= {fam}
        )  # fmt: skip
        out[name] = rows
    if not out["NON_TORCH_PCIE"]:
        out["NON_TORCH_PCIE"] = out["NON_TORCH_NVLINK"][:1] or mm.NON_TORCH_PCIE
    for name, rows in out.items():
        if not rows:
            out[name] = getattr(mm, name)
    return out


@contextmanager
def constants(values: dict[str, Any]) -> Iterator[None]:
    saved = {k: getattr(mm, k) for k in values}
    try:
        for k, v in values.items():
            setattr(mm, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(mm, k, v)


def print_lorfo(scored: list[Scored]) -> None:
    """Leave one release family out: the log-measured rows of that family removed, scored on
    it. Everything else in the model is read from vLLM's code, so this is where fitting would
    show."""
    print("\nLeave-one-release-family-out (non-torch rows measured on the family removed)")
    held_all: list[float] = []
    for fam in sorted({family(s.case) for s in scored}):
        inside = [s for s in scored if family(s.case) == fam]
        with constants(dict(tables_without(fam))):
            again = score_all([s.case for s in inside])
        held = [e for e in (s.kv_err for s in again) if e is not None]
        base = [e for e in (s.kv_err for s in inside) if e is not None]
        held_all += held
        wrong = sum(1 for s in again if verdict_right(s) is False)
        if held:
            print(f"  {fam:11} n={len(held):2}  KV median {statistics.median(held):5.2f}% "
                  f"(in-sample {statistics.median(base):5.2f}%)  max {max(held):6.2f}%  "
                  f"wrong verdicts {wrong}")  # fmt: skip
    _summary("  held-out available KV |error| %", held_all)


def main() -> int:
    cases = load_cases()
    skipped = [(c.id, c.skip) for c in cases if c.skip]
    scored = score_all(cases)
    print("Estimator accuracy on the dev cases (ours / vLLM's log, per GPU)\n")
    totals = print_table(scored)
    reruns = reconstructed_reruns(scored)
    print()
    for cid, why in skipped:
        print(f"skipped {cid}: {why}")
    print()
    _summary("weights |error| %", totals["w"])
    _summary("available KV |error| %", totals["kv"])
    print(f"tokens exact given vLLM's KV budget: {sum(totals['tok'])}/{len(totals['tok'])}")
    print(f"verdicts right (the cases' own runs): {sum(totals['verdicts'])}/{len(totals['verdicts'])}"
          f"  states {totals['states']}")  # fmt: skip
    print(f"failed re-runs reconstructed from error messages (GPU/other settings partly unknown): "
          f"{sum(reruns)}/{len(reruns)} not called 'starts'")  # fmt: skip
    extra_scored: list[Scored] = []
    if EXTRA.exists():
        extra_cases = load_cases(EXTRA)
        print(f"\nExtra real cases ({EXTRA.name}; sources and verbatim lines in the file)\n")
        extra_scored = score_all(extra_cases)
        ex = print_table(extra_scored)
        _summary("extra: weights |error| %", ex["w"])
        _summary("extra: available KV |error| %", ex["kv"])
        print(f"extra: tokens exact {sum(ex['tok'])}/{len(ex['tok'])}; verdicts right "
              f"{sum(ex['verdicts'])}/{len(ex['verdicts'])} {ex['states']}")  # fmt: skip
    print_terms(scored + extra_scored)
    print_lorfo(scored + extra_scored)
    return 0


def reconstructed_reruns(scored: list[Scored]) -> list[bool]:
    out = []
    for s in scored:
        extra = FAILED_RUNS.get(s.case.id)
        if not extra:
            continue
        r = s.case.raw
        cfg2 = parse_args([r["model"], *s.case.flags, *extra])
        target = Target(gpu=s.gpu or custom_gpu(80.0), vllm_version=s.case.version,
                        engine=s.case.engine, entry=s.case.entry,
                        flashinfer=s.case.flashinfer)  # fmt: skip
        g2 = s.gpu or _implied_gpu(s.facts, target, r)
        if g2 is None:
            continue
        est2 = estimate(s.facts, cfg2, replace(target, gpu=g2))
        out.append(est2.state != "starts")
        print(f"{s.case.id + '+':9} {s.case.version or '?':7} {est2.engine:3}  {'':22} {'':24} {'':42} "
              f"{est2.state:10} ({'right' if est2.state != 'starts' else 'WRONG'}) with {' '.join(extra)}")  # fmt: skip
    return out


def _world(s: Scored) -> int:
    r = s.case.raw
    return int(r.get("tensor_parallel_size") or 1) * int(r.get("pipeline_parallel_size") or 1)


def _tokens(facts: ModelFacts, cfg: Any, target: Target, kv_gib: float) -> int:
    cfg2 = cfg.set("kv_cache_memory_bytes", int(kv_gib * GiB))
    return estimate(facts, cfg2, target).kv.tokens


def _implied_gpu(facts: ModelFacts, target: Target, raw: dict[str, Any]) -> GpuSpec | None:
    """For a failed run on an unnamed GPU: the size that reproduces the successful run's KV."""
    base = estimate(facts, parse_args([raw["model"]]), target)
    if raw.get("kv_cache_gib"):
        kv = raw["kv_cache_gib"] * GiB
    elif raw.get("kv_cache_tokens"):
        kv = raw["kv_cache_tokens"] * base.kv.bytes_per_token
    else:
        return None
    other = base.budget_bytes - base.kv_cache_bytes
    util = raw.get("gpu_memory_utilization") or 0.9
    return custom_gpu((kv + other) / util / GiB, "implied by the successful run")


def _summary(label: str, values: list[float], unit: str = "") -> None:
    if not values:
        print(f"{label}: no cases")
        return
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    print(f"{label}: median {statistics.median(values):.2f}{unit}, p90 {p90:.2f}{unit}, "
          f"max {values[-1]:.2f}{unit} (n={len(values)})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
