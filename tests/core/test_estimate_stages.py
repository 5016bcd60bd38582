"""The estimator's named stages (issue #16 item 3) and the round-2 memory model (issue #10):
the sampler path per release, the profile peak as the larger of forward and sampler, non-torch
by link, the three-state verdict with what surely fits, vLLM's free-memory check, the
size-only GPU, the NVML v2 driver reservation, the JSON contract and the provenance labels."""

from __future__ import annotations

import json
from dataclasses import replace

import pynvml
import pytest

from tui.adapters.gpus import probe
from tui.cli import main
from tui.core import memory_model as mm
from tui.core.arch_catalog import builtin_facts
from tui.core.config import ServeConfig
from tui.core.engine_rules import rules_for
from tui.core.estimate import Target, estimate
from tui.core.gpu_catalog import GiB, custom_gpu, find_gpu

from ..fake_nvml import FakeDevice, FakeNVML

H100 = find_gpu("H100")
L40S = find_gpu("L40S")
assert H100 is not None and L40S is not None


def rules(version: str, **kw):
    return rules_for(version, H100, max_model_len=8192, **kw)


@pytest.mark.parametrize(
    ("version", "engine", "path", "per_logit"),
    [
        ("0.7.0", "V0", "sort", mm.LOGITS_FP32 + mm.SORT_PATH),
        ("0.10.1", None, "FlashInfer", mm.LOGITS_FP32 + mm.FLASHINFER_PATH),
        ("0.10.2", None, "sort", mm.LOGITS_FP32 + mm.SORT_PATH),
        ("0.11.0", None, "sort", mm.LOGITS_FP32 + mm.SORT_PATH),
        ("0.16.0", None, "sort", mm.LOGITS_FP32 + mm.SORT_PATH),
        ("0.17.0", None, "Triton", mm.LOGITS_FP32 + mm.TRITON_PATH),
        ("0.32.0", None, "Triton", mm.LOGITS_FP32 + mm.TRITON_PATH),
    ],
)
def test_sampler_path_follows_the_release(version, engine, path, per_logit):
    name, per, low, high = mm.sampler_path(rules(version, engine=engine))
    assert path in name and per == per_logit
    assert low <= per <= high


SORT = mm.LOGITS_FP32 + mm.SORT_PATH
FLASH = mm.LOGITS_FP32 + mm.FLASHINFER_PATH
TRITON = mm.LOGITS_FP32 + mm.TRITON_PATH


@pytest.mark.parametrize(
    ("version", "flashinfer", "env", "value", "low", "high"),
    [
        # 0.9.0-0.11.0: FlashInfer whenever it imports, unless VLLM_USE_FLASHINFER_SAMPLER=0.
        ("0.10.1", True, None, FLASH, FLASH, FLASH),
        ("0.10.1", False, None, SORT, SORT, SORT),
        ("0.11.0", True, None, FLASH, FLASH, FLASH),
        ("0.11.0", True, "0", SORT, SORT, SORT),
        ("0.11.0", None, "0", SORT, SORT, SORT),
        # 0.11.1-0.16: opt-in (PR #26859): installed or not, the sort runs unless =1.
        ("0.11.1", True, None, SORT, SORT, SORT),
        ("0.16.0", None, None, SORT, SORT, SORT),
        ("0.16.0", True, "1", FLASH, FLASH, FLASH),
        ("0.16.0", None, "1", SORT, FLASH, SORT),
        # 0.17+: Triton by default; FlashInfer only when opted into and installed.
        ("0.32.0", False, "1", TRITON, FLASH, TRITON + 2.0),
        ("0.32.0", True, "1", FLASH, FLASH, FLASH),
    ],
)
def test_the_sampler_path_is_exact_when_the_install_is_known(
    version, flashinfer, env, value, low, high
):
    r = replace(rules(version), flashinfer=flashinfer, flashinfer_sampler_env=env)
    _, per, lo, hi = mm.sampler_path(r)
    assert (per, lo, hi) == (value, low, high)


def test_a_case_whose_log_says_flashinfer_is_absent_is_estimated_with_the_sort():
    """Like dev case_47 (0.10.1, TP 2 on A100 40GB cards whose workers log "FlashInfer is not
    available"): the install decides the sampler's peak, hence the KV cache."""
    facts = builtin_facts("Qwen/Qwen3-8B")
    assert facts is not None
    gpu = custom_gpu(39.49, "A100 40GB")
    cfg = ServeConfig.build(
        "Qwen/Qwen3-8B",
        {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.5, "max_model_len": 16384},
    )
    target = Target(gpu=gpu, vllm_version="0.10.1", flashinfer=False)
    absent = estimate(facts, cfg, target)
    present = estimate(facts, cfg, replace(target, flashinfer=True))
    unknown = estimate(facts, cfg, replace(target, flashinfer=None))
    assert absent.kv_cache_bytes < present.kv_cache_bytes
    # Unknown, the band spans both paths; knowing the install narrows it.
    for known in (absent, present):
        assert unknown._kv_bytes_low <= known.kv_cache_bytes <= unknown._kv_bytes_high
        assert known._kv_bytes_high - known._kv_bytes_low < (
            unknown._kv_bytes_high - unknown._kv_bytes_low
        )


def test_sort_path_counts_each_tensor_of_the_sort():
    # values fp32 + indices int64, and the radix sort's second key/value buffer + int64 iota.
    assert mm.SORT_PATH == 4 + 8 + 4 + 8 + 8


def test_profile_peak_is_the_larger_of_forward_and_sampler_not_their_sum():
    facts = builtin_facts("Qwen/Qwen3-32B")
    r = rules("0.11.0")  # H100: 8192 tokens, 1024 requests
    band = mm.activation_peak(facts, r, tp=1, dtype_bytes=2, expert_parallel=False)
    fwd = mm.forward_peak(facts, r.profile_tokens, 1, 2, False)
    logits = r.profile_seqs * facts.vocab_size
    sampler = logits * (mm.LOGITS_FP32 + mm.SORT_PATH)
    held = r.profile_tokens * facts.hidden_size * 2 + logits * 2
    assert band.value == pytest.approx(max(fwd, held + sampler))
    assert band.value < fwd + sampler
    # vLLM 0.11.0 logged 5.64 GiB for exactly this (dev case_60).
    assert band.value / GiB == pytest.approx(5.64, rel=0.03)
    assert band.provenance == "derived"


def test_only_the_last_pipeline_stage_samples():
    facts = builtin_facts("Qwen/Qwen3-8B")
    r = rules("0.11.0")
    last = mm.activation_peak(facts, r, 1, 2, False, last_stage=True)
    first = mm.activation_peak(facts, r, 1, 2, False, last_stage=False)
    assert first.value == pytest.approx(mm.forward_peak(facts, r.profile_tokens, 1, 2, False))
    assert last.value > first.value


def test_non_torch_by_tp_link_and_release():
    r = rules("0.11.0")
    base = mm.by_release(mm.NON_TORCH_BASE, "0.11.0")
    tp1 = mm.non_torch(1, H100, r)
    nvlink = mm.non_torch(2, H100, r)
    pcie = mm.non_torch(8, L40S, r)
    assert tp1.value == base
    assert nvlink.value == base + mm.by_release(mm.NON_TORCH_NVLINK, "0.11.0")
    assert pcie.value == base + mm.by_release(mm.NON_TORCH_PCIE, "0.11.0")
    assert nvlink.high >= mm.NON_TORCH_NVLS_HIGH  # NCCL NVLS buffers on NVSwitch Hopper
    # Logged: TP 2 on H100, 0.54 GiB on 0.11.0 and ~2.1 GiB on 0.19.0.
    assert nvlink.value / GiB == pytest.approx(0.54, abs=0.03)
    assert mm.non_torch(2, H100, rules("0.19.0")).value / GiB == pytest.approx(2.1, abs=0.05)
    # Pipeline stages only: no all-reduce buffers (the caller passes TP, not TP x PP).
    assert mm.non_torch(1, H100, rules("0.19.0")).value == mm.by_release(
        mm.NON_TORCH_BASE, "0.19.0"
    )
    old = mm.non_torch(1, H100, rules("0.6.4", engine="V0"))
    assert old.value == mm.by_release(mm.NON_TORCH_BASE, "0.6.4") + mm.CUDA_CONTEXT
    assert {tp1.provenance, nvlink.provenance, old.provenance} == {"guess"}


def test_by_release_picks_the_newest_row_at_or_below():
    table = (("0.6.5", 1.0), ("0.11.0", 2.0), ("0.19.0", 3.0))
    assert [mm.by_release(table, v) for v in ("0.6.0", "0.10.2", "0.11.0", "0.18.9", "0.32.0")] == [
        1.0, 1.0, 2.0, 2.0, 3.0,
    ]  # fmt: skip


def test_three_states_and_what_surely_fits():
    facts = builtin_facts("meta-llama/Llama-3.1-8B-Instruct")
    gpu = custom_gpu(22.07, "L4-like")
    target = Target(gpu=gpu, vllm_version="0.11.0")
    small = estimate(facts, ServeConfig.build("x", {"max_model_len": 4096}), target)
    assert small.state == "starts" and small.fits
    mid = estimate(facts, ServeConfig.build("x", {"max_model_len": 8192}), target)
    lo, hi = mid.kv_low.max_fitting_len, mid.kv_high.max_fitting_len
    assert lo < hi
    between = (lo + hi) // 2
    edge = estimate(facts, ServeConfig.build("x", {"max_model_len": between}), target)
    assert edge.state == "borderline"
    assert edge.surely_fits_len == edge.kv_low.max_fitting_len > 0
    assert f"--max-model-len {edge.surely_fits_len:,}" in edge.verdict
    sure = estimate(facts, ServeConfig.build("x", {"max_model_len": edge.surely_fits_len}), target)
    assert sure.state == "starts"
    assert edge.surely_fits_util is not None
    cfg_util = ServeConfig.build(
        "x", {"max_model_len": between, "gpu_memory_utilization": edge.surely_fits_util}
    )
    assert estimate(facts, cfg_util, target).state == "starts"
    too_long = estimate(facts, ServeConfig.build("x", {"max_model_len": 131072}), target)
    assert too_long.state == "wont_start" and not too_long.fits
    big = builtin_facts("meta-llama/Llama-3.1-70B-Instruct")
    assert estimate(big, ServeConfig("x"), Target(gpu=find_gpu("L4"))).state == "wont_start"


def test_vllm_refuses_when_free_memory_is_below_the_budget():
    facts = builtin_facts("Qwen/Qwen3-8B")
    busy = replace(H100, free_bytes=int(40 * GiB))
    est = estimate(facts, ServeConfig.build("x", {"max_model_len": 8192}), Target(gpu=busy))
    assert est.state == "wont_start" and "free memory" in est.verdict
    low = ServeConfig.build("x", {"max_model_len": 8192, "gpu_memory_utilization": 0.45})
    assert estimate(facts, low, Target(gpu=busy)).state != "wont_start"


def test_a_gpu_known_only_by_size_names_its_assumption_and_widens_the_band():
    facts = builtin_facts("Qwen/Qwen3-8B")
    sized = estimate(facts, ServeConfig("x"), Target(gpu=custom_gpu(80), vllm_version="0.11.0"))
    a100 = estimate(facts, ServeConfig("x"), Target(gpu=find_gpu("A100 80GB"), vllm_version="0.11.0"))  # fmt: skip
    h100 = estimate(facts, ServeConfig("x"), Target(gpu=H100, vllm_version="0.11.0"))
    assert sized.rules.max_num_seqs == h100.rules.max_num_seqs == 1024
    assert a100.rules.max_num_seqs == 256
    act = sized.term("activation")
    assert act.low <= a100.term("activation").value <= act.high
    assert any("only the GPU's size is known" in n for n in sized.notes)
    assert not any("only the GPU's size is known" in n for n in h100.notes)


def test_cuda_graph_capture_ceiling_per_release_and_gpu():
    b200 = find_gpu("B200")
    assert b200 is not None
    assert rules_for("0.32.0", b200, max_model_len=4096).cuda_graph_max_batch == 1024
    assert rules_for("0.11.0", b200, max_model_len=4096).cuda_graph_max_batch == 512
    assert rules_for("0.11.0", H100, max_model_len=4096, max_num_seqs=8).cuda_graph_max_batch == 16


def test_every_term_carries_its_provenance_in_the_explanation():
    est = estimate(builtin_facts("Qwen/Qwen3-8B"), ServeConfig("x"), Target(gpu=H100))
    prov = {t.key: t.provenance for t in est.terms}
    assert prov == {
        "weights": "derived",
        "activation": "derived",
        "non_torch": "guess",
        "cuda_graph": "guess",
        "kv_cache": "vllm",
    }
    text = "\n".join(est.explanation)
    for label in mm.PROVENANCE.values():
        assert label in text
    assert text.count("\n") >= len(est.terms) + 2


def test_json_has_the_three_state_verdict_and_provenance(capsys):
    args = ["estimate", "Qwen/Qwen3-8B", "--gpu", "H100", "--json", "--max-model-len", "32768",
            "--vllm-version", "0.32.0"]  # fmt: skip
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "starts" and data["fits"] is True
    assert data["verdict_text"].startswith("starts")
    assert data["provenance"]["budget_gib"] == "vllm"
    assert data["provenance"]["activation_gib"] == "derived"
    assert {t["provenance"] for t in data["terms"]} <= {"vllm", "derived", "guess"}
    assert main([*args[:-4], "--max-model-len", "131072", "--vllm-version", "0.32.0"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["verdict"] in ("starts", "borderline", "wont_start")
    assert again["verdict"] != "starts" or again["fits"] is True


class ReservingNVML(FakeNVML):
    """NVML v2 with the driver's reservation filled in, as a real H100 reports it."""

    RESERVED = 85_031_714_816 - int(79.19 * GiB)

    def nvmlDeviceGetMemoryInfo(self, dev, version=None):
        m = super().nvmlDeviceGetMemoryInfo(dev, version)
        if version is not None:
            m.reserved = self.RESERVED
            m.free = dev.total - dev.used - self.RESERVED
        return m


def test_detected_gpu_budget_is_nvml_total_minus_driver_reserved():
    snap = probe(ReservingNVML([FakeDevice()]))
    gpu = snap.gpus[0]
    assert gpu.memory_reserved_bytes == ReservingNVML.RESERVED
    spec = gpu.as_spec()
    assert spec.total_bytes / GiB == pytest.approx(79.19, abs=0.005)
    assert spec.free_bytes == gpu.memory_free_bytes
    v1 = probe(FakeNVML([FakeDevice(v2_memory=False)])).gpus[0]
    assert v1.memory_reserved_bytes is None and v1.as_spec().total_bytes == v1.memory_total_bytes
    assert pynvml.nvmlMemory_v2  # the real struct version the adapter asks for


def test_plan_applies_the_busiest_gpus_free_memory():
    from tui.core.plan import plan

    facts = builtin_facts("Qwen/Qwen3-8B")
    cfg = ServeConfig.build("Qwen/Qwen3-8B", {"tensor_parallel_size": 2, "max_model_len": 8192})
    idle = replace(H100, free_bytes=int(78 * GiB))
    busy = replace(H100, free_bytes=int(30 * GiB))
    ok = plan(facts, cfg, (idle, idle), planning=False, vllm_version="0.19.0").estimate
    bad = plan(facts, cfg, (idle, busy), planning=False, vllm_version="0.19.0").estimate
    assert ok is not None and ok.state == "starts"
    assert bad is not None and bad.state == "wont_start" and "free memory" in bad.verdict
