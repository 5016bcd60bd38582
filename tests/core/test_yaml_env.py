"""The YAML export keeps what a YAML config cannot hold: CUDA_VISIBLE_DEVICES and the names
of the secret environment variables that must be set (never their values)."""

from __future__ import annotations

import yaml

from tui.core.commands import dump_yaml
from tui.core.config import ServeConfig


def test_yaml_names_the_environment_and_never_a_secret():
    cfg = (
        ServeConfig("Qwen/Qwen3-8B")
        .update({"api_key": "sk-never-in-yaml", "max_model_len": 4096})
        .with_gpus("0,1")
    )
    text = dump_yaml(cfg, "0.32.0")
    assert "export CUDA_VISIBLE_DEVICES=0,1" in text
    assert "VLLM_API_KEY  (secret: must be set" in text
    assert "sk-never" not in text
    assert yaml.safe_load(text)["max-model-len"] == 4096  # still a valid --config file


def test_yaml_without_environment_has_no_environment_block():
    assert "environment the server needs" not in dump_yaml(ServeConfig("Qwen/Qwen3-8B"), "0.32.0")
