"""Validation rules: each finding, its level, and that its fix really fixes it."""

from __future__ import annotations

import pytest

from tui.core.arch_catalog import builtin_facts
from tui.core.config import ServeConfig
from tui.core.gpu_catalog import find_gpu
from tui.core.validate import Context, valid_tp_sizes, validate

QWEN8 = builtin_facts("Qwen/Qwen3-8B")
LLAMA8 = builtin_facts("meta-llama/Llama-3.1-8B-Instruct")
H100 = find_gpu("H100")
T4 = find_gpu("T4")
A100 = find_gpu("A100 80GB")


def codes(cfg, **ctx):
    return {f.code: f for f in validate(cfg, Context(**ctx))}


def cfg(**values):
    return ServeConfig.build("m", values)


@pytest.mark.parametrize(
    ("values", "ctx", "code", "level"),
    [
        ({"gpu_memory_utilization": 1.5}, {}, "utilization-range", "error"),
        ({"gpu_memory_utilization": 0.0}, {}, "utilization-range", "error"),
        ({"tensor_parallel_size": 3}, {"facts": QWEN8}, "tp-heads", "error"),
        (
            {"tensor_parallel_size": 4, "pipeline_parallel_size": 2},
            {"gpus": (H100,) * 4},
            "gpu-count",
            "error",
        ),
        ({"max_loras": 4}, {}, "lora-disabled", "warning"),
        ({"max_lora_rank": 100, "enable_lora": True}, {}, "choice", "error"),
        ({"kv_cache_dtype": "fp8"}, {"gpus": (T4,)}, "fp8-kv-unsupported", "error"),
        ({"kv_cache_dtype": "fp8"}, {"gpus": (A100,)}, "fp8-kv-unsupported", "warning"),
        ({"dtype": "bfloat16"}, {"gpus": (T4,)}, "bf16-unsupported", "error"),
        ({}, {"gpus": (T4,), "facts": LLAMA8}, "bf16-auto-half", "info"),
        ({"max_model_len": 200000}, {"facts": LLAMA8}, "max-len-too-long", "error"),
        ({"disable_log_stats": True}, {}, "log-stats-off", "warning"),
        (
            {"quantization": "fp8"},
            {"facts": builtin_facts("Qwen/Qwen3-14B-AWQ")},
            "quant-conflict",
            "error",
        ),
        (
            {"quantization": "fp8"},
            {"facts": builtin_facts("Qwen/Qwen3-8B-FP8")},
            "quant-redundant",
            "info",
        ),
        ({}, {"port_in_use": True}, "port-in-use", "error"),
        ({"host": "0.0.0.0"}, {}, "open-without-key", "warning"),
        ({"swap_space": 8}, {"vllm_version": "0.32.0"}, "flag-unknown-to-vllm", "error"),
        ({"port": 70000}, {}, "range", "error"),
        ({"enable_expert_parallel": True}, {"facts": QWEN8}, "ep-dense", "warning"),
    ],
)
def test_rule_fires_and_fix_clears_it(values, ctx, code, level):
    config = cfg(**values)
    found = codes(config, **ctx)
    assert code in found, found
    assert found[code].level == level
    assert found[code].message.en and found[code].message.ja
    fix = found[code].fix
    # port_in_use is a fixed fact in this table (the real check probes the new port).
    if fix is not None and code not in ("bf16-auto-half", "port-in-use"):
        assert code not in codes(fix.apply(config), **ctx)


def test_clean_config_has_no_findings():
    assert codes(cfg(), facts=QWEN8, gpus=(H100,)) == {}


def test_tp_fix_lists_valid_sizes():
    f = codes(cfg(tensor_parallel_size=3), facts=QWEN8)["tp-heads"]
    assert "1, 2, 4" in f.message.en
    assert dict(f.fix.set) == {"tensor_parallel_size": 2}


def test_valid_tp_sizes_respect_kv_heads():
    assert valid_tp_sizes(QWEN8, 8) == [1, 2, 4, 8]
    qwen235 = builtin_facts("Qwen/Qwen3-235B-A22B")
    assert 8 in valid_tp_sizes(qwen235, 8)  # 4 KV heads replicated across 8 ranks is allowed


def test_swap_space_fine_on_old_vllm():
    assert "flag-unknown-to-vllm" not in codes(cfg(swap_space=8), vllm_version="0.6.4")


def test_long_context_override_env_turns_error_into_warning():
    long = cfg(max_model_len=200000)
    f = codes(long, facts=LLAMA8)["max-len-override"]
    forced = f.fix.apply(long)
    found = codes(forced, facts=LLAMA8)
    assert "max-len-too-long" not in found and found["max-len-forced"].level == "warning"


def test_flags_unknown_to_the_installed_vllm():
    found = codes(cfg(kv_cache_memory_bytes=1 << 30), known_options=frozenset({"--port"}))
    assert found["flag-unknown-to-vllm"].level == "error"
