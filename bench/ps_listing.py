"""How long `vllm-tui ps` takes with many run directories (issue #11: 2000 runs took 4.4 s).

Creates N finished runs (run.json + exit.json + a small server.log) in a temporary state dir
and times `python -m tui ps --all --json` and `ps` (running only) end to end, best of 3.
Usage: python bench/ps_listing.py [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_runs(root: Path, n: int) -> None:
    runs = root / "runs"
    runs.mkdir(parents=True)
    for i in range(n):
        d = runs / f"20260101-{i:06d}-tiny"
        d.mkdir()
        info = {
            "id": d.name,
            "model": "/models/tiny",
            "argv": ["python", "-m", "vllm.entrypoints.openai.api_server", "--port", "8000"],
            "env_names": ["VLLM_API_KEY"],
            "url": "http://127.0.0.1:8000",
            "created": 1.7e9 + i,
            "cwd": "/tmp",
            "port": 8000,
            "config": {"max_model_len": 512, "api_key": "****"},
            "pgid": 400000 + i,
            "shim_pid": 400000 + i,
            "token": f"{i:032x}",
            "shim_started_boot": 1000.0 + i,
        }
        (d / "run.json").write_text(json.dumps(info, indent=2))
        (d / "exit.json").write_text(json.dumps({"code": 0, "ended": 1.7e9 + i + 60}))
        (d / "server.log").write_text("INFO started\n" * 50)


def timed(args: list[str], home: Path) -> float:
    best = float("inf")
    env = {**os.environ, "VLLM_TUI_HOME": str(home)}
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui", *args], env=env, check=True, stdout=subprocess.DEVNULL
        )
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        make_runs(home, n)
        base = timed(["--version"], home)
        for args in (["ps"], ["ps", "--all", "--json"]):
            t = timed(args, home)
            print(f"{' '.join(args):<18} {n} runs: {t:.2f} s (interpreter start {base:.2f} s)")


if __name__ == "__main__":
    main()
