"""Log parser speed and memory. Prints numbers; asserts nothing.

A large real-looking log is built from the real recorded vLLM log (startup, uvicorn access
lines, stats lines with varying numbers, warnings, an error with traceback), then:
  - lines/s of LogParser.feed + the RunState reducer (what the app does per line);
  - peak Python memory while streaming a 1,000,000-line log from disk (tracemalloc).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.core.logparse import bounded_lines, clean_line, may_matter  # noqa: E402
from tui.core.reducer import replay  # noqa: E402


def real_lines() -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "tui" / "data" / "demo-vllm-cpu.log").read_text(
        errors="replace"
    )
    return text.splitlines()


def synthetic(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    base = real_lines()
    stats = [ln for ln in base if "Avg prompt throughput" in ln]
    access = [ln for ln in base if '"POST /v1/completions' in ln]
    extra = [
        "(EngineCore_DP0 pid=9) WARNING 11-27 00:20:00 [scheduler.py:1] Sequence group 1 is preempted by PreemptionMode.RECOMPUTE mode",
        "(EngineCore_DP0 pid=9) ERROR 11-27 00:20:00 [core.py:708] ValueError: No available memory for the cache blocks.",
        "Loading safetensors checkpoint shards:  50% Completed | 2/4 [00:01<00:01,  1.5it/s]\rLoading safetensors checkpoint shards: 100% Completed | 4/4",
        "\x1b[32mINFO\x1b[0m 11-27 00:20:00 [x.py:1] coloured line",
        "x" * 20000,
    ]
    out = list(base)
    while len(out) < n:
        r = rng.random()
        if r < 0.6:
            out.append(rng.choice(access))
        elif r < 0.9:
            line = rng.choice(stats)
            out.append(line.replace("Running: 0 reqs", f"Running: {rng.randint(0, 256)} reqs"))
        elif r < 0.995:
            out.append(rng.choice(base))
        else:
            out.append(rng.choice(extra))
    return out[:n]


def main() -> int:
    lines = synthetic(200_000)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        state = replay(lines)
        runs.append(time.perf_counter() - t0)
    best = min(runs)
    print(
        f"parser + reducer: {len(lines) / best:,.0f} lines/s (best of 3 over {len(lines):,} lines; median {len(lines) / statistics.median(runs):,.0f})"
    )
    print(
        f"  final state: {state.state}, {len(state.throughput)} throughput samples kept, {len(state.errors)} errors kept"
    )

    big = synthetic(1_000_000, seed=1)
    with tempfile.NamedTemporaryFile("w", delete=False, suffix=".log") as fh:
        fh.write("\n".join(big) + "\n")
        path = fh.name
    del big
    size_mb = os.path.getsize(path) / 1e6
    t0, c0 = time.perf_counter(), time.process_time()
    with open(path, encoding="utf-8", errors="replace") as fh:
        state = replay(bounded_lines(fh))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracemalloc.start()  # a second pass to measure memory (tracemalloc slows it down)
    with open(path, encoding="utf-8", errors="replace") as fh:
        state = replay(bounded_lines(fh))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"1,000,000-line log ({size_mb:.0f} MB) streamed from disk: {elapsed:.1f} s = {1_000_000 / elapsed:,.0f} lines/s (goal >= 200,000), peak Python memory {peak / 1e6:.1f} MB (bounded state: {len(state.throughput)} samples)"
    )
    print(f"  CPU time of that pass: {cpu:.1f} s = {1_000_000 / cpu:,.0f} lines per CPU-second")
    with open(path, encoding="utf-8", errors="replace") as fh:
        passed = sum(1 for raw in fh if may_matter(clean_line(raw)))
    os.unlink(path)
    print(
        f"  prefilter: {passed:,} of 1,000,000 lines hold a needle and reach the per-kind parsers"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
