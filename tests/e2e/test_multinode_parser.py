"""Every `vllm serve` line of the multi-node bring-up (`--format ray` and `--format nodes`) is
accepted by the installed vLLM's own `serve` parser, with the values we meant."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tui.core.commands import SERVE, nodes_bringup, ray_bringup
from tui.core.config import ServeConfig

pytestmark = pytest.mark.vllm

PARSE = r"""
import sys, json, io, contextlib
SRC = sys.argv[1]
sys.argv = ["vllm", "serve"]
from vllm.entrypoints.launchers.cli_args import make_arg_parser
from vllm.utils.argparse_utils import FlexibleArgumentParser
parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
KEYS = ("model_tag", "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size",
        "distributed_executor_backend", "nnodes", "node_rank", "master_addr", "master_port",
        "headless", "max_model_len", "enable_lora")
out = []
for args in json.load(open(SRC)):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = parser.parse_args(args)
    except SystemExit:
        out.append({"error": err.getvalue().strip().splitlines()[-1:]})
        continue
    out.append({k: getattr(ns, k, "<missing>") for k in KEYS})
print(json.dumps(out))
"""

CONFIGS = (
    ServeConfig.build("meta-llama/Llama-3.1-405B-Instruct", {"max_model_len": 32768}),
    ServeConfig.build(
        "Qwen/Qwen3-235B-A22B",
        {"tensor_parallel_size": 4, "pipeline_parallel_size": 2, "enable_expert_parallel": True},
        env={"HF_TOKEN": "hf_secret_value"},
    ),
    ServeConfig.build(
        "/shared/models/llama", {"data_parallel_size": 2, "tensor_parallel_size": 4}
    ).set("enable_lora", True),
)


def _serve_lines(nodes: int, gpn: int) -> list[tuple[str, int, list[str]]]:
    lines = []
    for cfg in CONFIGS:
        for fmt, build in (("ray", ray_bringup), ("nodes", nodes_bringup)):
            for script in build(cfg, nodes, gpn, head="10.1.2.3"):
                assert "hf_secret_value" not in script.script
                if script.serve is not None:
                    assert list(script.serve[: len(SERVE)]) == list(SERVE)
                    lines.append((fmt, script.node, list(script.serve[len(SERVE) :])))
    return lines


def test_every_serve_line_of_the_bringup_is_accepted(vllm_python: str, tmp_path: Path) -> None:
    lines = _serve_lines(2, 8) + _serve_lines(4, 4)
    src = tmp_path / "argv.json"
    src.write_text(json.dumps([args for _, _, args in lines]))
    out = subprocess.run(
        [vllm_python, "-c", PARSE, str(src)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    parsed = json.loads(out.stdout.strip().splitlines()[-1])
    ray_heads = nodes_lines = 0
    for (fmt, node, args), got in zip(lines, parsed, strict=True):
        assert "error" not in got, (args, got)
        assert got["model_tag"] == args[0]
        assert got["tensor_parallel_size"] * got["pipeline_parallel_size"] > 1
        if fmt == "ray":
            ray_heads += 1
            assert node == 0
            assert got["distributed_executor_backend"] == "ray"
            assert got["nnodes"] == 1  # Ray places the ranks; no vLLM multi-node flags
        else:
            nodes_lines += 1
            assert got["distributed_executor_backend"] in (None, "mp")
            assert got["nnodes"] in (2, 4) and got["node_rank"] == node
            assert got["master_addr"] == "10.1.2.3" and got["master_port"] == 29500
            assert got["headless"] is (node > 0)
    assert ray_heads == 2 * len(CONFIGS)
    assert nodes_lines == (2 + 4) * len(CONFIGS)


def test_default_layout_is_gpus_per_node_by_nodes(vllm_python: str, tmp_path: Path) -> None:
    (head,) = [s for s in ray_bringup(CONFIGS[0], 2, 8) if s.serve]
    src = tmp_path / "argv.json"
    assert head.serve is not None
    src.write_text(json.dumps([list(head.serve[len(SERVE) :])]))
    out = subprocess.run(
        [vllm_python, "-c", PARSE, str(src)], capture_output=True, text=True, timeout=300
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])[0]
    assert (got["tensor_parallel_size"], got["pipeline_parallel_size"]) == (8, 2)
    assert got["max_model_len"] == 32768
