"""vLLM's own multi-node mode, end to end on the CPU build: the two `vllm serve` commands
that `--format nodes` prints (node 0 serves the API, node 1 runs `--headless`), started as
two processes on 127.0.0.1 with the tiny model split PP=2, answer a completion.
Run under `flock /tmp/heavy.lock` (two vLLM processes, about three minutes on two cores)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tui.core.commands import SERVE, nodes_bringup
from tui.core.config import ServeConfig

pytestmark = [pytest.mark.vllm, pytest.mark.e2e]

CLI = Path(__file__).with_name("vllm_cli_cpu.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, body: dict[str, object] | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return bytes(resp.read())


def test_two_nodes_on_one_machine_serve_a_completion(
    vllm_python: str, tiny_model: Path, tmp_path: Path
) -> None:
    port = _free_port()
    cfg = ServeConfig.build(
        str(tiny_model),
        {"max_model_len": 256, "port": port, "pipeline_parallel_size": 2, "dtype": "bfloat16"},
    )
    scripts = nodes_bringup(cfg, 2, 1, head="127.0.0.1", port=_free_port())
    env = dict(
        os.environ,
        VLLM_TARGET_DEVICE="cpu",
        VLLM_CPU_KVCACHE_SPACE="1",
        HF_HUB_OFFLINE="1",
        VLLM_NO_USAGE_STATS="1",
    )
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for script in scripts:
            assert script.serve is not None
            log = tmp_path / f"node{script.node}.log"
            logs.append(log)
            argv = [vllm_python, str(CLI), *script.serve[len(SERVE) - 1 :]]
            with open(log, "wb") as out:
                procs.append(
                    subprocess.Popen(
                        argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
                    )
                )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                tails = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
                pytest.fail(f"a node exited early:\n{tails}")
            try:
                _get(f"http://127.0.0.1:{port}/health")
                break
            except OSError:
                time.sleep(2)
        else:
            pytest.fail("not ready within 600 s")
        reply = json.loads(
            _get(
                f"http://127.0.0.1:{port}/v1/completions",
                {"model": str(tiny_model), "prompt": "hello", "max_tokens": 4},
            )
        )
        assert reply["usage"]["completion_tokens"] == 4
        assert "pp2" in reply.get("system_fingerprint", "")
        assert "headless" in logs[1].read_text(errors="replace").lower()
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
