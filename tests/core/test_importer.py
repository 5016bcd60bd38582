"""Importing pasted command lines and YAML configs; round trips and fuzzing (hypothesis)."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.commands import build_argv, build_env, dump_yaml
from tui.core.errors import UserError
from tui.core.importer import parse_command, parse_yaml

from ..strategies import SAFE, configs

SEED_EXAMPLE = """vllm serve unsloth/Llama-3.3-70B-Instruct \\
    --quantization fp8 \\
    --kv-cache-dtype fp8 \\
    --gpu-memory-utilization 0.97 \\
    --max-model-len 65536
"""


def test_seed_guide_example_imports():
    cfg = parse_command(SEED_EXAMPLE)
    assert cfg.model == "unsloth/Llama-3.3-70B-Instruct"
    assert cfg.as_dict() == {
        "quantization": "fp8",
        "kv_cache_dtype": "fp8",
        "gpu_memory_utilization": 0.97,
        "max_model_len": 65536,
    }


@pytest.mark.parametrize(
    ("text", "model", "values"),
    [
        ("vllm serve m --max-model-len=4096", "m", {"max_model_len": 4096}),
        ("vllm serve m -tp 2 -pp 2", "m", {"tensor_parallel_size": 2, "pipeline_parallel_size": 2}),
        ("vllm serve m --gpu_memory_utilization 0.8", "m", {"gpu_memory_utilization": 0.8}),
        ("vllm serve m --no-enable-prefix-caching", "m", {"enable_prefix_caching": False}),
        ("$ vllm serve 'my model' --served-model-name a b", "my model", {"served_model_name": ("a", "b")}),
        ("python -m vllm.entrypoints.openai.api_server --model m --port 8001", "m", {"port": 8001}),
        ("python3 -m vllm.entrypoints.cli.main serve m --enforce-eager", "m", {"enforce_eager": True}),
        ("/opt/venv/bin/vllm serve m --max-model-len 32k", "m", {"max_model_len": 32000}),
        ("vllm serve m --max-model-len auto", "m", {"max_model_len": -1}),
        ("VLLM_API_KEY=sk HF_TOKEN=hf vllm serve m", "m", {"api_key": "sk", "hf_token": "hf"}),
        ("VLLM_ALLOW_RUNTIME_LORA_UPDATING=True vllm serve m --enable-lora --max-loras 4", "m",
         {"allow_runtime_lora_updating": True, "enable_lora": True, "max_loras": 4}),
        ("docker run --gpus all -e HF_TOKEN=hf -p 8000:8000 vllm/vllm-openai:latest --model m -q awq", "m",
         {"hf_token": "hf", "quantization": "awq"}),
        ("vllm serve m # trailing comment", "m", {}),
        ("--model m --dtype half", "m", {"dtype": "half"}),
    ],
)  # fmt: skip
def test_import_forms(text, model, values):
    cfg = parse_command(text)
    assert cfg.model == model
    assert cfg.as_dict() == values


def test_unknown_flags_are_kept_verbatim():
    cfg = parse_command(
        "vllm serve m --reasoning-parser qwen3 --enable-auto-tool-choice --tool-call-parser=hermes -O3"
    )
    assert cfg.passthrough == (
        "--reasoning-parser",
        "qwen3",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
        "-O3",
    )
    argv = build_argv(cfg)
    assert argv[-6:] == [
        "--reasoning-parser",
        "qwen3",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
        "-O3",
    ]


def test_cuda_visible_devices_and_other_env_are_kept():
    cfg = parse_command("CUDA_VISIBLE_DEVICES=2,3 NCCL_P2P_DISABLE=1 vllm serve m -tp 2")
    assert cfg.cuda_visible_devices == "2,3"
    assert dict(cfg.env) == {"NCCL_P2P_DISABLE": "1"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("vllm serve m --max-model-len 'unterminated", "quotes"),
        ("ls -la", "not a vLLM command"),
        ("vllm serve m --max-model-len abc", "whole number"),
        ("vllm serve m --gpu-memory-utilization high", "number"),
        ("vllm serve m --port", "needs a value"),
        ("vllm serve --port 8000", "no model"),
        ("vllm serve m --enforce-eager=yes", "takes no value"),
        ("vllm serve m --served-model-name", "at least one"),
    ],
)
def test_bad_command_lines_give_one_clear_error(text, needle):
    with pytest.raises(UserError) as info:
        parse_command(text)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("model: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "mapping"),
        ("model: m\nmax-model-len: lots\n", "whole number"),
        ("model: {a: 1}\n", "string"),
        ("port: 8000\n", "no model"),
    ],
)
def test_bad_yaml_gives_one_clear_error(text, needle):
    with pytest.raises(UserError) as info:
        parse_yaml(text)
    assert needle in str(info.value)


# -- round trips --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_round_trip_through_command_line(cfg):
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in build_env(cfg).items())
    text = env + " " + " ".join(shlex.quote(a) for a in build_argv(cfg))
    assert parse_command(text) == cfg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(with_secrets=False))
def test_round_trip_through_yaml(cfg):
    assert parse_yaml(dump_yaml(cfg)) == cfg


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_command_importer_raises_only_user_errors(text):
    try:
        parse_command(text)
    except UserError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["vllm", "serve", "m", "--max-model-len", "-tp", "2", "x", "--no-enforce-eager",
                                  "--enforce-eager", "=", "--port=", "--port=80", "-1", "--model", "--config",
                                  "--lora-modules", "a=b", "'", '"', "\\", "\n", "--served-model-name", "VAR=1"]),
                max_size=12))  # fmt: skip
def test_fuzz_token_soup(tokens):
    try:
        parse_command(" ".join(tokens))
    except UserError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_yaml_importer_raises_only_user_errors(text):
    try:
        parse_yaml(text)
    except UserError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(SAFE, min_size=1, max_size=20),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=10),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
        max_size=6,
    )
)
def test_fuzz_yaml_mappings(data):
    import yaml

    data = dict(data)
    data.setdefault("model", "m")
    try:
        parse_yaml(yaml.safe_dump(data))
    except UserError:
        pass
