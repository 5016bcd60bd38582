"""`estimate --nodes` and `command --nodes --format ray|nodes` from the command line (the
acceptance cases of the multi-node issue)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ARGS_405B = ["meta-llama/Llama-3.1-405B-Instruct", "--gpu", "H100", "--num-gpus", "8"]
LAYOUT = ["--tensor-parallel-size", "8", "--pipeline-parallel-size", "2"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", RAY_ADDRESS="")
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_405b_on_two_nodes_fits_with_per_stage_numbers() -> None:
    out = _cli("estimate", *ARGS_405B, "--nodes", "2", *LAYOUT, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["fits"] is True
    nodes = data["nodes"]
    assert (nodes["nodes"], nodes["gpus_per_node"], nodes["gpus_total"]) == (2, 8, 16)
    assert nodes["missing_gpus"] == 0
    stages = nodes["per_stage"]
    assert [(s["stage"], s["nodes"], s["layers"]) for s in stages] == [(0, [0], 63), (1, [1], 63)]
    assert all(40 < s["weights_gib_per_gpu"] < 55 for s in stages)
    assert not [f for f in data["findings"] if f["level"] == "error"]


def test_405b_on_one_node_is_an_error_naming_the_missing_gpus() -> None:
    out = _cli("estimate", *ARGS_405B, "--nodes", "1", *LAYOUT, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["fits"] is False
    errors = [f for f in data["findings"] if f["level"] == "error"]
    assert [f["code"] for f in errors] == ["cluster-gpus"]
    assert "8 H100 GPUs missing (1 more node of 8)" in errors[0]["message"]["en"]
    assert data["nodes"]["missing_gpus"] == 8
    text = _cli("estimate", *ARGS_405B, "--nodes", "1", *LAYOUT)
    assert "error: TP 8 x PP 2 x DP 1 = 16 GPUs" in text.stdout
    assert "stage 1: 63 layers on node 1" in text.stdout


@pytest.mark.parametrize("fmt", ["ray", "nodes"])
def test_command_prints_every_nodes_script(fmt: str) -> None:
    out = _cli(
        "command", "org/model", "--nodes", "3", "--num-gpus", "4", "--format", fmt,
        "--head-address", "10.0.0.1", "--hf-token", "hf_do_not_print",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert [line for line in text.splitlines() if line.startswith("# ---- node")] == [
        "# ---- node 0 of 3 (head) ----",
        "# ---- node 1 of 3 (worker) ----",
        "# ---- node 2 of 3 (worker) ----",
    ]
    assert "hf_do_not_print" not in text + out.stderr
    if fmt == "ray":
        assert "ray start --head --port 6379" in text
        assert text.count("ray start --address 10.0.0.1:6379") == 2
        assert text.count("vllm serve") == 1
        assert "--distributed-executor-backend ray" in text
    else:
        assert text.count("vllm serve") == 3
        assert text.count("--headless") == 2
        assert "--master-addr 10.0.0.1" in text


def test_bringup_format_needs_nodes() -> None:
    out = _cli("command", "org/model", "--format", "ray")
    assert out.returncode == 2
    assert "--format ray needs --nodes N" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_nodes_value_is_one_line() -> None:
    out = _cli("estimate", "org/model", "--nodes", "0")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_nodes_without_a_layout_get_the_usual_one_as_a_fix() -> None:
    out = _cli("estimate", *ARGS_405B, "--nodes", "2", "--json")
    assert out.returncode == 0, out.stderr
    idle = [f for f in json.loads(out.stdout)["findings"] if f["code"] == "nodes-idle"]
    assert (
        len(idle) == 1 and "TP 8" in idle[0]["message"]["en"] and "PP 2" in idle[0]["message"]["en"]
    )
    laid_out = _cli("estimate", *ARGS_405B, "--nodes", "2", *LAYOUT, "--json")
    assert not [f for f in json.loads(laid_out.stdout)["findings"] if f["code"] == "nodes-idle"]
