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
from dev_cases import EXTRA, load_cases  # noqa: E402

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


def _kv_errors() -> list[float]:
    errors = sorted(e for e in (s.kv_err for s in SCORED.values()) if e is not None)
    assert len(errors) >= 25
    return errors


def test_available_kv_median_error_within_two_percent() -> None:
    errors = _kv_errors()
    assert statistics.median(errors) <= 2.0, errors


# case_47 (TP 2 across two Ray nodes) was 8.1% off until the sampler path became an input: its
# workers log "FlashInfer is not available", so 0.10.1 sorts (tests/data/sampler-evidence.json).
# Still above 6%, without an input that would explain them: case_32 (gpt-oss-120b, weights not in
# the log), case_24 (V0 + chunked prefill), case_62 (multimodal Mistral-Small-3.2 on 0.11.0: its
# 2.12 GiB peak is FlashInfer's, but the other 0.11.0 rows of the same source are the sort's, and
# its log lines do not say which sampler ran; see docs/memory-model.md).
def test_available_kv_p90_error_within_six_percent() -> None:
    errors = _kv_errors()
    p90 = errors[int(round(0.9 * (len(errors) - 1)))]
    assert p90 <= 6.0, errors


EXTRA_SCORED = {s.case.id: s for s in ea.score_all(load_cases(EXTRA))} if EXTRA.exists() else {}


@pytest.mark.parametrize("case_id", sorted(EXTRA_SCORED))
def test_extra_case_verdict_never_wrong_way_round(case_id: str) -> None:
    scored = EXTRA_SCORED[case_id]
    assert scored.state is not None and scored.state != "wont_start", scored.est.verdict


def test_extra_cases_error_budget() -> None:
    """The extra real logs (0.6.4-0.19.0, TP/PP, fp8, fp32; tests/data/...extra.json)."""
    errors = sorted(e for e in (s.kv_err for s in EXTRA_SCORED.values()) if e is not None)
    assert len(errors) >= 15
    assert statistics.median(errors) <= 2.0, errors
    assert errors[int(round(0.9 * (len(errors) - 1)))] <= 6.0, errors
