"""Adversarial inputs from issue #11: each gives one line on stderr and exit 2, never an
"internal error", never a traceback, never memory without end (3 were memory bombs)."""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main

LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 1024,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "intermediate_size": 2048,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "torch_dtype": "bfloat16",
}


def model_dir(tmp_path: Path, config: object | str, files: dict[str, bytes] | None = None) -> str:
    d = tmp_path / "model"
    d.mkdir(exist_ok=True)
    text = config if isinstance(config, str) else json.dumps(config)
    (d / "config.json").write_text(text)
    for name, data in (files or {}).items():
        (d / name).write_bytes(data)
    return str(d)


def safetensors(header: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header


def one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert "internal error" not in err and "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for word in words:
        assert word in err, (word, err)
    return err


# -- config.json and weight files ------------------------------------------------------------

CONFIG_CASES = [
    ("infinity", json.dumps(LLAMA)[:-1] + ', "rope_theta": Infinity}', ("Infinity",)),
    ("nan", json.dumps(LLAMA).replace("4096", "NaN"), ("NaN",)),
    ("deep-200k", "[" * 200_000 + "]" * 200_000, ("nested",)),
    ("layers-1e9", {**LLAMA, "num_hidden_layers": 1_000_000_000}, ("num_hidden_layers",)),
    ("layers-float-inf", {**LLAMA, "num_hidden_layers": 1e308}, ("num_hidden_layers",)),
    ("head-dim-negative", {**LLAMA, "head_dim": -1}, ("head_dim",)),
    ("hidden-string", {**LLAMA, "hidden_size": "big"}, ("hidden_size",)),
    ("vocab-huge", {**LLAMA, "vocab_size": 10**12}, ("vocab_size",)),
    ("quant-string", {**LLAMA, "quantization_config": "fp8"}, ("quantization_config",)),
    ("quant-bits", {**LLAMA, "quantization_config": {"quant_method": "gptq", "bits": "four"}}, ("bits",)),
    ("rope-string", {**LLAMA, "rope_scaling": "yarn"}, ("rope_scaling",)),
    ("rope-factor", {**LLAMA, "rope_scaling": {"rope_type": "yarn", "factor": -4}}, ("factor",)),
    ("dtype-float13", {**LLAMA, "torch_dtype": "float13"}, ("torch_dtype", "float13")),
    ("experts-1e9", {**LLAMA, "num_experts": 10**9}, ("num_experts",)),
    ("text-config-bad", {"architectures": ["LlavaForConditionalGeneration"], "text_config": {**LLAMA, "num_attention_heads": 0}}, ("num_attention_heads",)),
    ("heads-above-hidden", {**LLAMA, "num_attention_heads": 4096, "hidden_size": 64}, ("head_dim",)),
    ("architectures-string", {**LLAMA, "architectures": "LlamaForCausalLM"}, ("architectures",)),
    ("not-an-object", "[1, 2, 3]", ("object",)),
    ("kv-heads-above-heads", {**LLAMA, "num_key_value_heads": 16}, ("num_key_value_heads",)),
    ("topk-above-experts", {**LLAMA, "num_experts": 8, "num_experts_per_tok": 9}, ("num_experts_per_tok",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "words"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config_json_is_one_line_exit_2(tmp_path, capsys, config, words):  # fmt: skip
    d = model_dir(tmp_path, config)
    one_line_exit_2(capsys, ["estimate", d, "--gpu", "H100"], *words)


WEIGHT_CASES = [
    ("index-metadata-list", {"model.safetensors.index.json": b'{"metadata": [], "weight_map": {}}'}, "metadata"),
    ("index-total-size-string", {"model.safetensors.index.json": b'{"metadata": {"total_size": "9"}, "weight_map": {}}'}, "total_size"),
    ("index-total-size-huge", {"model.safetensors.index.json": b'{"metadata": {"total_size": 1e300}}'}, "total_size"),
    ("index-weight-map-list", {"model.safetensors.index.json": b'{"weight_map": ["a"]}'}, "weight_map"),
    ("index-not-json", {"model.safetensors.index.json": b"{oops"}, "not valid JSON"),
    ("header-list", {"model.safetensors": safetensors(b"[1, 2]")}, "header"),
    ("header-bad-dtype", {"model.safetensors": safetensors(b'{"w": {"dtype": "Q3", "shape": [2], "data_offsets": [0, 4]}}')}, "dtype"),
    ("header-offsets-reversed", {"model.safetensors": safetensors(b'{"w": {"dtype": "F16", "shape": [2], "data_offsets": [9, 4]}}')}, "data_offsets"),
    ("header-offsets-strings", {"model.safetensors": safetensors(b'{"w": {"dtype": "F16", "shape": [2], "data_offsets": ["0", "4"]}}')}, "data_offsets"),
    ("header-shape-negative", {"model.safetensors": safetensors(b'{"w": {"dtype": "F16", "shape": [-2], "data_offsets": [0, 4]}}')}, "shape"),
    ("header-entry-number", {"model.safetensors": safetensors(b'{"w": 5}')}, "object"),
    ("header-cut-short", {"model.safetensors": struct.pack("<Q", 1000) + b'{"w": '}, "cut short"),
    ("header-infinity", {"model.safetensors": safetensors(b'{"w": {"dtype": "F16", "shape": [Infinity], "data_offsets": [0, 4]}}')}, "header"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("files", "word"), [c[1:] for c in WEIGHT_CASES], ids=[c[0] for c in WEIGHT_CASES]
)
def test_bad_weight_files_are_one_line_exit_2(tmp_path, capsys, files, word):  # fmt: skip
    d = model_dir(tmp_path, LLAMA, files)
    one_line_exit_2(capsys, ["estimate", d, "--gpu", "H100"], word)


def test_good_model_dir_still_estimates(tmp_path, capsys):
    header = b'{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}, "__metadata__": {"format": "pt"}}'
    d = model_dir(tmp_path, LLAMA, {"model.safetensors": safetensors(header) + b"\0" * 4})
    assert main(["estimate", d, "--gpu", "H100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]


# -- command-line numbers ----------------------------------------------------------------------

ARG_CASES = [
    (["--gpu-memory-gib", "1e-300"], "--gpu-memory-gib"),
    (["--gpu-memory-gib", "inf"], "--gpu-memory-gib"),
    (["--gpu-memory-gib", "nan"], "--gpu-memory-gib"),
    (["--num-gpus", "1" * 25], "--num-gpus"),
    (["--num-gpus", "1000000000"], "--num-gpus"),
    (["--tensor-parallel-size", "1" * 25], "--tensor-parallel-size"),
    (["--pipeline-parallel-size", "100000"], "--pipeline-parallel-size"),
    (["-tp", "1024", "-pp", "1024"], "TP x PP x DP"),
    (["--vllm-version", "abc"], "--vllm-version"),
    (["--vllm-version", "1.2.3.4.5.6.7.8.9" * 9], "--vllm-version"),
    (["--block-size", "7"], "--block-size"),
    (["--block-size", "100000"], "--block-size"),
    (["--port", "99999"], "--port"),
    (["--port", "0"], "--port"),
    (["--max-model-len", "1" * 25], "--max-model-len"),
    (["--max-num-seqs", "1" * 25], "--max-num-seqs"),
    (["--gpu-memory-utilization", "1e-300"], None),
]


@pytest.mark.parametrize(("args", "word"), ARG_CASES, ids=[" ".join(a)[:30] for a, _ in ARG_CASES])
def test_out_of_range_numbers_are_one_line_exit_2(tmp_path, capsys, args, word):
    d = model_dir(tmp_path, LLAMA)
    argv = ["estimate", d, "--gpu", "H100", *args]
    if word is None:  # accepted by vLLM's own rule (> 0): must not crash either
        assert main(argv) in (0, 2)
        assert "internal error" not in capsys.readouterr().err
        return
    one_line_exit_2(capsys, argv, word)


@pytest.mark.parametrize("host", ["::::", "bad_host!", "[::1]", "a b"])
def test_impossible_host_is_one_line_exit_2(capsys, host):
    one_line_exit_2(capsys, ["command", "some/model", "--host", host], "--host")


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_port_out_of_range_never_reaches_bind(capsys, port):
    one_line_exit_2(capsys, ["command", "some/model", "--port", port], "--port")


def test_version_argument_accepts_real_releases(tmp_path, capsys):
    d = model_dir(tmp_path, LLAMA)
    for version in ("0.11.0", "v0.10.1rc1", "0.6.3.post1"):
        assert main(["estimate", d, "--gpu", "H100", "--vllm-version", version]) == 0, version
    capsys.readouterr()


# -- YAML --------------------------------------------------------------------------------------


def test_deep_yaml_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    one_line_exit_2(capsys, ["command", "--from-yaml", str(path)], "nested")


def test_yaml_alias_bomb_is_refused_in_bounded_memory(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("model: m")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    # In a child with a 1 GiB address-space limit: a bomb would die, a refusal exits 2.
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30));"
        "from tui.cli import main; sys.exit(main(['command', '--from-yaml', sys.argv[1]]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert "alias" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_memory_bomb_config_is_refused_in_bounded_memory(tmp_path):
    d = model_dir(tmp_path, {**LLAMA, "num_hidden_layers": 1_000_000_000})
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31));"
        "from tui.cli import main; sys.exit(main(['estimate', sys.argv[1], '--gpu', 'H100', '--num-gpus', '1']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, d], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert "num_hidden_layers" in proc.stderr
    assert resource.RLIMIT_AS  # the limit exists on this platform


# -- settings, profiles, options cache ----------------------------------------------------------


def test_settings_with_wrong_types_are_quarantined_and_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VLLM_TUI_HOME", str(tmp_path))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"planning_gpu": 5, "planning_gpu_count": "two"}))
    d = model_dir(tmp_path, LLAMA)
    assert main(["estimate", d]) == 0
    err = capsys.readouterr().err
    assert str(settings) in err and "planning_gpu" in err
    assert not settings.exists()
    assert list(tmp_path.glob("settings.json.corrupt-*"))
