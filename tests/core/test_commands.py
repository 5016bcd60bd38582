"""Table tests of the pure command builders (argv, env, YAML, shell)."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml

from tui.cli import main
from tui.core.commands import build_argv, build_env, build_yaml_dict, mask_env, shell_script
from tui.core.config import ServeConfig
from tui.core.importer import parse_command, parse_yaml

M = "org/model"


@pytest.mark.parametrize(
    ("values", "expected_tail"),
    [
        ({}, ["--host", "127.0.0.1"]),
        ({"gpu_memory_utilization": 0.92}, ["--host", "127.0.0.1"]),  # vLLM default: omitted
        (
            {"gpu_memory_utilization": 0.95},
            ["--gpu-memory-utilization", "0.95", "--host", "127.0.0.1"],
        ),
        ({"host": "0.0.0.0"}, ["--host", "0.0.0.0"]),
        ({"tensor_parallel_size": 4}, ["--tensor-parallel-size", "4", "--host", "127.0.0.1"]),
        ({"enforce_eager": True}, ["--host", "127.0.0.1", "--enforce-eager"]),
        ({"enforce_eager": False}, ["--host", "127.0.0.1"]),
        ({"enable_prefix_caching": False}, ["--host", "127.0.0.1", "--no-enable-prefix-caching"]),
        (
            {"served_model_name": ["a", "b"]},
            ["--host", "127.0.0.1", "--served-model-name", "a", "b"],
        ),
        (
            {"swap_space": 4.0},
            ["--swap-space", "4", "--host", "127.0.0.1"],
        ),  # no default in new vLLM
        ({"swap_space": 8}, ["--swap-space", "8", "--host", "127.0.0.1"]),
        ({"max_model_len": "32k"}, ["--max-model-len", "32000", "--host", "127.0.0.1"]),
        ({"max_model_len": "32K"}, ["--max-model-len", "32768", "--host", "127.0.0.1"]),
    ],
)
def test_argv_emits_only_non_default_values(values, expected_tail):
    cfg = ServeConfig.build(M, values)
    assert build_argv(cfg) == ["vllm", "serve", M, *expected_tail]


def test_version_specific_default_is_emitted_for_older_vllm():
    cfg = ServeConfig.build(M, {"gpu_memory_utilization": 0.92})
    assert "--gpu-memory-utilization" not in build_argv(cfg)
    cfg = ServeConfig.build(M, {"gpu_memory_utilization": 0.95})
    assert build_argv(cfg, version="0.10.2")[3:5] == ["--gpu-memory-utilization", "0.95"]


def test_secrets_never_reach_argv_or_yaml():
    cfg = ServeConfig.build(M, {"api_key": "sk-secret", "hf_token": "hf_secret"})
    argv = build_argv(cfg)
    assert not any("secret" in a for a in argv)
    assert "--api-key" not in argv and "--hf-token" not in argv
    env = build_env(cfg)
    assert env["VLLM_API_KEY"] == "sk-secret" and env["HF_TOKEN"] == "hf_secret"
    assert "secret" not in yaml.safe_dump(build_yaml_dict(cfg))
    assert mask_env(env) == {"VLLM_API_KEY": "****", "HF_TOKEN": "****"}
    script = shell_script(cfg)
    assert "secret" not in script and '"${VLLM_API_KEY:?' in script
    assert "sk-secret" in shell_script(cfg, show_secrets=True)


def test_env_switches_and_gpu_choice():
    cfg = ServeConfig.build(
        M, {"allow_runtime_lora_updating": True, "enable_lora": True}, cuda_visible_devices="0,1"
    )
    env = build_env(cfg)
    assert env == {"VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "CUDA_VISIBLE_DEVICES": "0,1"}
    assert "VLLM_ALLOW_RUNTIME_LORA_UPDATING" not in " ".join(build_argv(cfg))


def test_shell_script_quotes_and_round_trips():
    cfg = ServeConfig.build(
        M, {"served_model_name": ["it's ok"], "download_dir": "/data/my models"}
    )
    script = shell_script(cfg)
    body = script.split("set -euo pipefail\n", 1)[1]
    assert parse_command(body) == cfg


def test_passthrough_and_api_server_form():
    cfg = ServeConfig.build(M, {}, passthrough=["--reasoning-parser", "qwen3"])
    argv = build_argv(
        cfg, ["python", "-m", "vllm.entrypoints.openai.api_server"], model_positional=False
    )
    assert argv[:5] == ["python", "-m", "vllm.entrypoints.openai.api_server", "--model", M]
    assert argv[-2:] == ["--reasoning-parser", "qwen3"]


def test_acceptance_command_json(capsys):
    rc = main(
        [
            "command",
            "Qwen/Qwen3-8B",
            "--api-key",
            "sk-x",
            "--hf-token",
            "hf_x",
            "--kv-cache-dtype",
            "fp8",
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert "sk-x" not in data["argv"] and "hf_x" not in data["argv"]
    assert set(data["env"]) == {"VLLM_API_KEY", "HF_TOKEN"}
    assert "--kv-cache-dtype" in data["argv"]


def test_acceptance_yaml_reimports_to_same_argv(capsys, tmp_path):
    args = [
        "command",
        "Qwen/Qwen3-8B",
        "--api-key",
        "sk-x",
        "--hf-token",
        "hf_x",
        "--kv-cache-dtype",
        "fp8",
    ]
    assert main([*args, "--format", "yaml"]) == 0
    text = capsys.readouterr().out
    assert "sk-x" not in text and "hf_x" not in text
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    assert main(["command", "--from-yaml", str(path), "--format", "argv"]) == 0
    again = capsys.readouterr().out.strip()
    assert main([*args, "--format", "argv"]) == 0
    assert capsys.readouterr().out.strip() == again
    assert parse_yaml(text) == parse_command(again)


def test_show_secrets_flag(capsys):
    main(["command", M, "--api-key", "sk-x", "--format", "json", "--show-secrets"])
    assert json.loads(capsys.readouterr().out)["env"]["VLLM_API_KEY"] == "sk-x"


def test_shell_output_is_valid_shell(capsys):
    main(["command", M, "--served-model-name", "a b", "--max-model-len", "8192"])
    out = capsys.readouterr().out
    joined = out.replace("\\\n", " ")
    last = [line for line in joined.splitlines() if line.startswith("vllm ")][0]
    assert shlex.split(last)[:3] == ["vllm", "serve", M]
