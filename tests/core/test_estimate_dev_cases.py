"""Acceptance on the real startup logs in tests/data (issue #10): one exact verdict test per
case (a run that started is never "wont_start"; a run that failed is never "starts"), the
available-KV error budget (median <= 2%, p90 <= 6%), and tokens exact given vLLM's KV bytes."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import estimator_accuracy as ea  # noqa: E402
from dev_cases import load_cases  # noqa: E402

CASES = [c for c in load_cases() if not c.skip]
SCORED = {s.case.id: s for s in ea.score_all(CASES)}

# Token counts are exact for every case but one. case_01 prints "Available KV cache memory:
# 10.65 GiB" from worker TP3 while vLLM sizes the cache from the minimum over 8 workers; its
# 238,208 tokens need 10.68 GiB at 48,128 B/token, 0.2% more than the line says.
TOKEN_EXCEPTIONS = {"case_01": 0.0025}


@pytest.mark.parametrize("case_id", sorted(SCORED))
def test_verdict_never_wrong_way_round(case_id: str) -> None:
    scored = SCORED[case_id]
    if scored.state is None:
        pytest.skip(scored.gpu_note)
    failed = case_id in ea.FAILED_RUNS and not ea.FAILED_RUNS[case_id]
    if failed:
        assert scored.state != "starts", scored.est.verdict
    else:
        assert scored.state != "wont_start", scored.est.verdict


@pytest.mark.parametrize("case_id", sorted(SCORED))
def test_tokens_exact_given_vllms_kv_bytes(case_id: str) -> None:
    scored = SCORED[case_id]
    raw = scored.case.raw
    want = raw.get("kv_cache_tokens")
    if not want or not raw.get("kv_cache_gib"):
        pytest.skip("the log prints no KV GiB and tokens together")
    cfg = ea.parse_args([raw["model"], *scored.case.flags])
    target = ea.Target(
        gpu=scored.gpu or ea.custom_gpu(80.0),
        vllm_version=scored.case.version,
        engine=scored.case.engine,
        entry=scored.case.entry,
    )
    lo = ea._tokens(scored.facts, cfg, target, raw["kv_cache_gib"] - 0.005)
    hi = ea._tokens(scored.facts, cfg, target, raw["kv_cache_gib"] + 0.005)
    tolerance = TOKEN_EXCEPTIONS.get(case_id, 0.001)
    assert lo * (1 - tolerance) <= want <= hi * (1 + tolerance), (lo, want, hi)


def test_available_kv_error_budget() -> None:
    errors = sorted(e for e in (s.kv_err for s in SCORED.values()) if e is not None)
    assert len(errors) >= 25
    p90 = errors[int(round(0.9 * (len(errors) - 1)))]
    assert statistics.median(errors) <= 2.0, errors
    assert p90 <= 6.0, errors
