"""Every CLI path: bad input -> one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui.cli import main


def run_cli(*args, env=None):
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "Qwen/Qwen3-8B", "--max-model-len", "abc"],
        ["estimate", "Qwen/Qwen3-8B", "--gpu-memory-utilization", "1.5"],
        ["estimate", "Qwen/Qwen3-8B", "--gpu", "GTX 9999"],
        ["estimate", "/does/not/exist"],
        ["estimate", "no-such-org/no-such-model"],
        ["estimate", "Qwen/Qwen3-8B", "--num-gpus", "0"],
        ["estimate", "Qwen/Qwen3-8B", "--gpu-memory-gib", "-3"],
        ["command", "--from-command", "ls -la"],
        ["command", "--from-yaml", "/does/not/exist.yaml"],
        ["command", "m", "--port", "notaport"],
        ["nonsense-subcommand"],
        ["parse-log", "/does/not/exist.log"],
        ["flags", "--lang", "fr"],
    ],
)
def test_bad_input_exits_2_without_traceback(args):
    code, out, err = run_cli(*args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert err.strip(), "a message is printed"
    assert len(err.strip().splitlines()) <= 3


def test_broken_config_json(tmp_path, capsys):
    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text("{ not json")
    assert main(["estimate", str(d)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    (d / "config.json").write_text('{"hidden_size": "big"}')
    assert main(["estimate", str(d)]) == 2
    assert "unusable" in capsys.readouterr().err


def test_unknown_architecture_still_estimates_flagged(tmp_path, capsys):
    d = tmp_path / "weird"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({
        "architectures": ["FancyNewForCausalLM"], "hidden_size": 2048, "num_hidden_layers": 16,
        "num_attention_heads": 16, "intermediate_size": 8192, "vocab_size": 32000,
    }))  # fmt: skip
    assert main(["estimate", str(d), "--gpu", "L4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("best-effort" in n for n in data["notes"])
    assert data["kv_cache_tokens"] > 0


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "estimate" in capsys.readouterr().out
    assert main(["--version"]) == 0


def test_estimate_flashinfer_decides_the_sampler_of_0_11_0_and_not_of_0_32():
    def activation(*extra):
        code, out, err = run_cli("estimate", "Qwen/Qwen3-8B", "--gpu", "A100", "--json", *extra)
        assert code == 0, err
        terms = {t["key"]: t for t in json.loads(out)["terms"]}
        return terms["activation"]

    yes = activation("--vllm-version", "0.11.0", "--flashinfer", "yes")
    no = activation("--vllm-version", "0.11.0", "--flashinfer", "no")
    unknown = activation("--vllm-version", "0.11.0")
    assert "FlashInfer" in yes["basis"] and "sort" in no["basis"]
    assert yes["gib"] < no["gib"]
    assert unknown["low_gib"] <= yes["gib"] and no["gib"] <= unknown["high_gib"]
    # 0.11.1 made FlashInfer's sampler opt-in: having it installed changes nothing.
    assert (
        activation("--vllm-version", "0.32.0", "--flashinfer", "yes")["gib"]
        == activation("--vllm-version", "0.32.0", "--flashinfer", "no")["gib"]
    )
    code, _, err = run_cli("estimate", "Qwen/Qwen3-8B", "--flashinfer", "maybe")
    assert code == 2 and "Traceback" not in err
