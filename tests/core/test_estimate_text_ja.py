"""The estimator's prose in Japanese: every basis, note, reason and verdict of a set of
representative estimates reads back as a Japanese sentence, and the English is untouched."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tui.core.arch_catalog import builtin_facts
from tui.core.catalog.spec import Text
from tui.core.config import ServeConfig
from tui.core.estimate import Estimate, Target, estimate
from tui.core.estimate_text import PHRASES, bilingual
from tui.core.gpu_catalog import GiB, custom_gpu, find_gpu

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
H100 = find_gpu("H100")
L4 = find_gpu("L4")


def run(model: str, gpu=H100, version: str | None = None, num_gpus: int | None = 1, **flags):
    facts = builtin_facts(model)
    cfg = ServeConfig.build(model, flags)
    return estimate(facts, cfg, Target(gpu=gpu, vllm_version=version, num_gpus=num_gpus))


CASES = {
    "planning": lambda: run("Qwen/Qwen3-8B", num_gpus=None),
    "detected gpu, little free": lambda: run(
        "Qwen/Qwen3-8B", gpu=replace(H100, free_bytes=int(40 * GiB)), version="0.11.0"
    ),
    "size only": lambda: run("Qwen/Qwen3-8B", gpu=custom_gpu(80), num_gpus=None),
    "fp8": lambda: run("Qwen/Qwen3-8B", version="0.10.2", quantization="fp8", kv_cache_dtype="fp8"),
    "tp 2": lambda: run("Qwen/Qwen3-32B", num_gpus=2, version="0.19.0", tensor_parallel_size=2),
    "too few gpus": lambda: run("Qwen/Qwen3-32B", num_gpus=1, tensor_parallel_size=2),
    "weights too big": lambda: run("meta-llama/Llama-3.1-70B-Instruct", gpu=L4),
    "kv too small": lambda: run("Qwen/Qwen3-8B", gpu=L4, max_model_len=131072),
    "borderline": lambda: run("Qwen/Qwen3-8B", gpu=L4, max_model_len=29000),
    "old vllm, eager": lambda: run("Qwen/Qwen2.5-7B-Instruct", version="0.6.3", enforce_eager=True),
    "explicit kv": lambda: run("Qwen/Qwen3-8B", kv_cache_memory_bytes=4 * GiB),
    "lora and offload": lambda: run(
        "Qwen/Qwen3-8B", enable_lora=True, max_loras=2, max_lora_rank=16, cpu_offload_gb=2
    ),
    "unified memory": lambda: run(
        "Qwen/Qwen3-8B", gpu=replace(custom_gpu(96, "GB10"), unified_memory=True)
    ),
    "hybrid": lambda: run("google/gemma-3-1b-it", version="0.10.2"),
}


def prose(est: Estimate) -> list[str]:
    """What the F7 dialog and the VRAM panel show of the estimator's own words."""
    detail = est.verdict.split(": ", 1)[1]
    return [
        *(term.basis for term in est.terms),
        *est.notes,
        *est.reasons,
        est.verdict,
        detail,
        est.explanation[-1],
    ]


@pytest.mark.parametrize("case", CASES)
def test_every_sentence_has_a_japanese_side(case):
    est = CASES[case]()
    for sentence in prose(est):
        text = bilingual(sentence)
        assert text.en == sentence
        assert text.ja and text.ja != text.en, sentence
        assert JAPANESE.search(text.ja), sentence
        assert "{" not in text.ja, sentence


def test_the_cases_reach_each_verdict_and_failure():
    states = {case: CASES[case]().state for case in CASES}
    assert states["planning"] == "starts"
    assert states["borderline"] == "borderline"
    assert {states[c] for c in ("too few gpus", "weights too big", "kv too small")} == {
        "wont_start"
    }
    assert "surely fits" in CASES["borderline"]().verdict
    notes = " ".join(n for c in CASES for n in CASES[c]().notes)
    parts = ("LoRA slots", "--cpu-offload-gb", "only the GPU's size", "hybrid attention", "unified")
    for part in parts:
        assert part in notes


def test_fields_are_translated_inside_a_sentence():
    ja = bilingual("fails: needs 2 GPUs (TP 2 x PP 1 x DP 1) but 1 are available").ja
    assert ja == "起動できない: GPU が 2 枚必要です（TP 2 x PP 1 x DP 1）が、使えるのは 1 枚です"
    options = bilingual(
        "one request of 131,072 tokens does not fit in the KV cache (the largest that fits is "
        "9,000); use --max-model-len 9000, or a higher --gpu-memory-utilization, or more GPUs "
        "(--tensor-parallel-size)"
    ).ja
    assert options.endswith(
        "対策: --max-model-len 9000、または --gpu-memory-utilization を上げる、または "
        "GPU を増やす（--tensor-parallel-size）"
    )


def test_the_borderline_remedies_read_in_japanese():
    ja = bilingual(
        "borderline: 29,000 tokens fit at the band's optimistic end (30,375 KV tokens) but not at "
        "its pessimistic end (17,211); no length surely fits, or --gpu-memory-utilization 0.95"
    ).ja
    assert ja.endswith("確実に収まる長さはない、または --gpu-memory-utilization 0.95")


def test_a_finding_that_became_the_reason_is_given_in_japanese():
    finding = Text("the port is in use", "ポートが使用中です")
    assert (
        bilingual("fails: the port is in use", [finding]).ja == "起動できない: ポートが使用中です"
    )


def test_an_unknown_sentence_stays_english_and_every_pair_is_well_formed():
    assert bilingual("something new").ja == "something new"
    for pair in PHRASES:
        names = set(re.findall(r"\{(\w+)", pair.en))
        assert names == set(re.findall(r"\{(\w+)\}", pair.ja)), pair.en
        assert JAPANESE.search(pair.ja), pair.en
