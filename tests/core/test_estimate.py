"""The estimator: exact KV arithmetic for each attention layout, weights vs real logs, the
verdicts, the version rules and the CLI's JSON contract."""

from __future__ import annotations

import json

import pytest

from tui.cli import main
from tui.core.arch_catalog import builtin_facts
from tui.core.config import ServeConfig
from tui.core.estimate import Target, estimate
from tui.core.gpu_catalog import GiB, custom_gpu, find_gpu
from tui.core.kv import kv_groups

H100 = find_gpu("H100")


def tokens(model: str, kv_bytes: int, version: str = "0.10.2", **flags) -> tuple[int, float]:
    facts = builtin_facts(model)
    cfg = ServeConfig.build(model, {"kv_cache_memory_bytes": kv_bytes, **flags})
    est = estimate(facts, cfg, Target(gpu=H100, vllm_version=version, num_gpus=8))
    return est.kv.tokens, est.kv.max_concurrency


def test_uniform_gqa_llama_8b_matches_vllm_block_math():
    # Llama-3.1-8B: 32 layers x 2 x 8 KV heads x 128 x 2 bytes = 128 KiB/token; blocks of 16.
    budget = int(3.81 * GiB)
    blocks = budget // (16 * 131072)
    assert tokens("meta-llama/Llama-3.1-8B-Instruct", budget, max_model_len=20000)[0] == blocks * 16


def test_kv_heads_replicated_when_tp_exceeds_them():
    # Qwen3-235B: 4 KV heads, TP 8 -> each rank keeps one whole head: 94 x 2 x 1 x 128 x 2 B.
    facts = builtin_facts("Qwen/Qwen3-235B-A22B")
    cfg = ServeConfig.build(
        "x", {"tensor_parallel_size": 8, "max_model_len": 32768, "kv_cache_memory_bytes": 10 * GiB}
    )
    est = estimate(facts, cfg, Target(gpu=H100, vllm_version="0.10.2", num_gpus=8))
    assert est.kv.bytes_per_token == 94 * 2 * 1 * 128 * 2 == 48128
    assert est.kv.tokens == (10 * GiB) // (16 * 48128) * 16
    cfg4 = cfg.set("tensor_parallel_size", 4)
    assert (
        estimate(
            facts, cfg4, Target(gpu=H100, vllm_version="0.10.2", num_gpus=8)
        ).kv.bytes_per_token
        == 48128
    )


def test_mla_stores_one_latent_replicated_on_every_rank():
    # DeepSeek-V2-Lite: (kv_lora_rank 512 + rope 64) x 2 bytes = 1152 B per token per layer,
    # the same on every TP rank; PP 2 -> 14 of 27 layers on the busiest stage.
    facts = builtin_facts("deepseek-ai/DeepSeek-V2-Lite")
    cfg = ServeConfig.build(
        "x",
        {
            "tensor_parallel_size": 2,
            "pipeline_parallel_size": 2,
            "kv_cache_memory_bytes": 2 * GiB,
            "block_size": 64,
        },
    )
    est = estimate(facts, cfg, Target(gpu=H100, vllm_version="0.10.2", num_gpus=4))
    assert est.kv.bytes_per_token == 1152 * 14
    assert est.kv.tokens == (2 * GiB) // (64 * 1152 * 14) * 64


def test_hybrid_sliding_window_groups_and_padding_like_vllm():
    # Gemma-3-1B: 4 full + 22 sliding layers -> group size 4, sliding split into 6 groups with
    # 2 padding layers (vLLM logs "Add 2 padding layers"), 7 groups in all.
    facts = builtin_facts("google/gemma-3-1b-it")
    grouping = kv_groups(facts, hybrid=True)
    assert grouping.group_size == 4 and grouping.padding_layers == 2 and len(grouping.groups) == 7
    per_layer = 2 * 1 * 256 * 2  # K and V, 1 KV head, head_dim 256, bf16
    budget = 8 * GiB
    blocks = budget // (16 * per_layer * 4)  # a block spans one layer of each group
    got, _ = tokens("google/gemma-3-1b-it", budget, max_model_len=32768)
    assert got == blocks // 7 * 16


def test_gpt_oss_alternating_sliding_full_balances_groups():
    facts = builtin_facts("openai/gpt-oss-20b")
    grouping = kv_groups(facts, hybrid=True)
    assert grouping.group_size == 12 and len(grouping.groups) == 2 and grouping.padding_layers == 0


@pytest.mark.parametrize(
    "model",
    [
        "meta-llama/Llama-3.1-8B-Instruct",
        "Qwen/Qwen3-30B-A3B",
        "deepseek-ai/DeepSeek-V2-Lite",
        "google/gemma-3-1b-it",
    ],
)
def test_fp8_kv_exactly_doubles_tokens_for_the_same_budget(model):
    budget = 4 * GiB + 12345
    base, _ = tokens(model, budget)
    fp8, _ = tokens(model, budget, kv_cache_dtype="fp8")
    block = 64 if "DeepSeek" in model else 16
    assert abs(fp8 - 2 * base) <= 2 * block


def test_new_vllm_prints_tokens_from_concurrency():
    # vLLM 0.32: "KV cache size" = int(concurrency x max_model_len); checked against the real
    # CPU run in tests/e2e (exact). Full attention: equals blocks x block size when aligned.
    budget = 2 * GiB
    old, _ = tokens(
        "meta-llama/Llama-3.1-8B-Instruct", budget, version="0.10.2", max_model_len=4096
    )
    new, conc = tokens(
        "meta-llama/Llama-3.1-8B-Instruct", budget, version="0.32.0", max_model_len=4096
    )
    assert new == old and conc == pytest.approx(old / 4096)


@pytest.mark.parametrize(
    ("model", "flags", "gib", "expected"),
    [
        # Weights per GPU as vLLM reported them in the dev cases (see bench/estimator_accuracy.py).
        ("meta-llama/Llama-3.1-8B-Instruct", {}, None, 14.9888),
        ("Qwen/Qwen3-0.6B", {}, None, 1.1201),
        ("Qwen/Qwen3-8B-FP8", {}, None, 8.80),
        (
            "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
            {"tensor_parallel_size": 8, "enable_expert_parallel": True},
            44.42,
            27.72,
        ),
        ("Qwen/Qwen3-14B-AWQ", {}, 44.42, 9.44),
    ],
)
def test_weights_within_two_percent_of_vllm_logs(model, flags, gib, expected):
    facts = builtin_facts(model)
    gpu = custom_gpu(gib) if gib else H100
    est = estimate(
        facts, ServeConfig.build(model, flags), Target(gpu=gpu, vllm_version="0.10.2", num_gpus=8)
    )
    assert est.gib("weights") == pytest.approx(expected, rel=0.02)


def test_verdicts():
    facts = builtin_facts("meta-llama/Llama-3.1-8B-Instruct")
    # Case 24 of the dev logs: a 22 GiB GPU cannot hold one 131072-token request.
    v0 = estimate(
        facts, ServeConfig("x"), Target(gpu=custom_gpu(22.07), vllm_version="0.7.0", engine="V0")
    )
    assert not v0.fits and "max-model-len" in v0.verdict
    ok = estimate(
        facts,
        ServeConfig.build("x", {"max_model_len": 8192}),
        Target(gpu=custom_gpu(22.07), vllm_version="0.7.0", engine="V0"),
    )
    assert ok.fits
    big = builtin_facts("meta-llama/Llama-3.1-70B-Instruct")
    too_big = estimate(big, ServeConfig("x"), Target(gpu=find_gpu("L4")))
    assert not too_big.fits and "weights" in too_big.verdict
    fits_len = estimate(
        facts, ServeConfig.build("x", {"max_model_len": 131072}), Target(gpu=custom_gpu(22.07))
    )
    assert fits_len.kv.max_fitting_len < 131072 and not fits_len.fits
    again = estimate(
        facts,
        ServeConfig.build("x", {"max_model_len": fits_len.kv.max_fitting_len}),
        Target(gpu=custom_gpu(22.07)),
    )
    assert again.fits


def test_cuda_graphs_inside_the_budget_from_021_and_none_when_eager():
    facts = builtin_facts("Qwen/Qwen3-8B")
    old = estimate(facts, ServeConfig("x"), Target(gpu=H100, vllm_version="0.20.0"))
    new = estimate(facts, ServeConfig("x"), Target(gpu=H100, vllm_version="0.21.0"))
    eager = estimate(
        facts,
        ServeConfig.build("x", {"enforce_eager": True}),
        Target(gpu=H100, vllm_version="0.21.0"),
    )
    assert not old.cuda_graph_in_budget and new.cuda_graph_in_budget
    assert new.kv_cache_bytes < old.kv_cache_bytes
    assert eager.term("cuda_graph").value == 0 and eager.kv_cache_bytes > new.kv_cache_bytes


def test_band_brackets_the_estimate_and_names_the_guesses():
    facts = builtin_facts("Qwen/Qwen3-8B")
    est = estimate(facts, ServeConfig("x"), Target(gpu=H100))
    assert est.kv_low.tokens <= est.kv.tokens <= est.kv_high.tokens
    guesses = {t.key for t in est.terms if t.guess}
    assert guesses == {"activation", "non_torch", "cuda_graph"}


def test_estimate_json_contract(capsys):
    assert (
        main(
            [
                "estimate",
                "Qwen/Qwen3-8B",
                "--gpu",
                "H100",
                "--json",
                "--max-model-len",
                "32768",
                "--vllm-version",
                "0.32.0",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    for key in ("weights_gib", "activation_gib", "non_torch_gib", "cuda_graph_gib", "budget_gib", "kv_cache_gib", "kv_bytes_per_token",
                "kv_cache_tokens", "max_concurrency", "max_model_len", "max_fitting_model_len", "fits", "band", "notes"):  # fmt: skip
        assert key in data, key
    assert data["kv_bytes_per_token"] == 36 * 2 * 8 * 128 * 2
    assert (
        isinstance(data["band"]["kv_cache_tokens"], list)
        and len(data["band"]["kv_cache_tokens"]) == 2
    )
    assert data["fits"] is True and data["max_model_len"] == 32768


def test_estimate_takes_vllm_serve_spellings(capsys):
    args = ["estimate", "Qwen/Qwen3-8B", "--gpu", "L40S", "--json", "-tp", "2", "--pipeline-parallel-size", "1",
            "--kv-cache-dtype", "fp8", "--quantization", "fp8", "--dtype", "bfloat16", "--max-num-seqs", "64",
            "--max-num-batched-tokens", "4096", "--enforce-eager", "--block-size", "32", "--trust-remote-code",
            "--gpu-memory-utilization", "0.9", "--max-model-len", "16k"]  # fmt: skip
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["num_gpus"] == 2 and data["block_size"] == 32 and data["max_num_seqs"] == 64
    assert (
        data["cuda_graph_gib"] == 0
        and data["kv_cache_dtype_bytes"] == 1
        and data["max_model_len"] == 16000
    )
