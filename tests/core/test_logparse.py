"""Log parser: real log excerpts (the CPU run, GPU lines from the dev cases), throughput in
every known format, diagnosed errors, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.diagnose import diagnose
from tui.core.logparse import LogParser, clean_line, parse_memory, parse_throughput, split_line
from tui.core.reducer import reduce, replay
from tui.core.runstate import RunState, process_exited

DATA = Path(__file__).parents[1] / "data"
CASES = json.loads((DATA / "vllm-memory-cases.dev.json").read_text())


def test_cpu_log_replays_to_ready_with_memory_and_throughput():
    state = replay((DATA / "cpu-0.32.0-startup-and-throughput.log").open(errors="replace"))
    data = state.as_json()
    assert data["vllm_version"] == "0.32.0"
    assert data["state"] == "ready"
    names = [p["name"] for p in data["phases"]]
    for phase in ("config", "loading", "kv_cache", "engine_ready", "api_ready"):
        assert phase in names
    assert data["memory"]["kv_cache_gib"] == 0.89
    assert data["memory"]["kv_cache_tokens"] == 934528
    assert data["memory"]["max_concurrency"] == 1825.25
    assert data["throughput"][0] == {
        "prompt_tps": 9.8, "gen_tps": 606.6, "running": 0, "waiting": 0,
        "kv_cache_usage_pct": 0.0, "prefix_cache_hit_pct": 0.0,
    }  # fmt: skip
    assert data["url"] == "http://0.0.0.0:18124"
    assert data["errors"] == []


FIELD_MAP = {
    "weights_gib": "weights_gib",
    "kv_cache_gib": "kv_cache_gib",
    "kv_cache_tokens": "kv_cache_tokens",
    "max_concurrency": "max_concurrency",
    "gpu_blocks": "gpu_blocks",
    "cuda_graph_gib": "cuda_graph_gib",
    "non_torch_gib": "non_torch_gib",
    "activation_gib": "activation_peak_gib",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["case_id"])
def test_dev_case_evidence_lines_parse_to_the_case_numbers(case):
    """The evidence lines are real vLLM output; what we parse from them must equal the case."""
    state = replay(case["evidence"])
    mem = state.memory_dict
    compared = 0
    for ours, theirs in FIELD_MAP.items():
        if ours in mem and case.get(theirs) is not None:
            if ours == "activation_gib" and "peak_torch_gib" in mem:
                continue
            assert mem[ours] == pytest.approx(case[theirs], abs=0.011), ours
            compared += 1
    # Some cases quote an author's summary (markdown tables and bullets) rather than vLLM's own
    # lines; only vLLM's own lines are expected to parse.
    raw = [line for line in case["evidence"] if not line.lstrip().startswith(("|", "-", "*"))]
    has_numbers = any(s in " ".join(raw) for s in ("took", "KV cache", "blocks", "weights take"))
    assert compared > 0 or not has_numbers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("(APIServer pid=1) INFO 11-26 23:23:05 [loggers.py:335] Engine 000: Avg prompt throughput: 9.8 tokens/s, Avg generation throughput: 606.6 tokens/s, Running: 3 reqs, Waiting: 1 reqs, GPU KV cache usage: 12.5%, Prefix cache hit rate: 40.0%",
         {"prompt_tps": 9.8, "gen_tps": 606.6, "running": 3, "waiting": 1, "kv_cache_usage_pct": 12.5, "prefix_cache_hit_pct": 40.0, "kv_device": "GPU", "engine": "000"}),
        ("INFO 05-01 10:00:00 metrics.py:455] Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 12.3 tokens/s, Running: 1 reqs, Swapped: 0 reqs, Pending: 2 reqs, GPU KV cache usage: 0.1%, CPU KV cache usage: 0.0%.",
         {"prompt_tps": 0.0, "gen_tps": 12.3, "running": 1, "waiting": 2, "swapped": 0, "kv_cache_usage_pct": 0.1, "kv_device": "GPU"}),
        ("INFO 01-02 03:04:05 [loggers.py:118] Engine 001: Avg prompt throughput: 1,234.5 tokens/s, Avg generation throughput: 99.0 tokens/s, Running: 8 reqs, Waiting: 0 reqs, XPU KV cache usage: 3.0%",
         {"prompt_tps": 1234.5, "gen_tps": 99.0, "running": 8, "waiting": 0, "kv_cache_usage_pct": 3.0, "kv_device": "XPU", "engine": "001"}),
        ("Avg prompt throughput: 5.0 tokens/s, Avg generation throughput: 6.0 tokens/s",
         {"prompt_tps": 5.0, "gen_tps": 6.0}),
        ("INFO [loggers.py:1] Avg prompt throughput: 1.0 tokens/s, Avg generation throughput: 2.0 tokens/s, Running: 1 reqs, Waiting: 0 reqs, CPU KV cache usage: 1.0%, Prefix cache hit rate: GPU: 5.00%, CPU: 0.00%",
         {"prompt_tps": 1.0, "gen_tps": 2.0, "running": 1, "waiting": 0, "kv_cache_usage_pct": 1.0, "kv_device": "CPU", "prefix_cache_hit_pct": 5.0}),
    ],
)  # fmt: skip
def test_throughput_formats_never_invent_fields(line, expected):
    msg = split_line(clean_line(line)).message
    sample = parse_throughput(msg)
    got = {k: v for k, v in vars(sample).items() if v is not None and k != "line_no"}
    assert got == expected


ERRORS = [
    ("ValueError: The model's max seq len (131072) is larger than the maximum number of tokens that can be stored in KV cache (37696). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
     "kv_cache_too_small", "--max-model-len", {"max_model_len": 37696}),
    ("(EngineCore_DP0 pid=9) ERROR 10-31 15:07:49 [core.py:708] ValueError: To serve at least one request with the models's max seq len (221000), (10.12 GiB KV cache is needed, which is larger than the available KV cache memory (5.59 GiB). Based on the available memory, the estimated maximum model length is 122080. Try increasing `gpu_memory_utilization`",
     "kv_cache_too_small", "--max-model-len", {"max_model_len": 122080}),
    ("ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.",
     "no_kv_memory", "--gpu-memory-utilization", {}),
    ("ValueError: Free memory on device (30.5/79.19 GiB) on startup is less than desired GPU memory utilization (0.9, 71.27 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.",
     "free_memory_low", "--gpu-memory-utilization", {"gpu_memory_utilization": 0.37}),
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.58 GiB of which 1.25 GiB is free.",
     "cuda_oom", "--gpu-memory-utilization", {}),
    ("ValueError: Total number of attention heads (32) must be divisible by tensor parallel size (3).",
     "tp_heads", "--tensor-parallel-size", {"tensor_parallel_size": 2}),
    ("Value error, User-specified max_model_len (200000) is greater than the derived max_model_len (max_position_embeddings=131072.0 or model_max_length=None in model's config.json). To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1.",
     "max_len_above_derived", "--max-model-len", {"max_model_len": 131072}),
    ("ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly setting the `dtype` flag in CLI, for example: --dtype=half.",
     "bf16_unsupported", "--dtype", {"dtype": "half"}),
    ("ValueError: Quantization method specified in the model config (awq) does not match the quantization method specified in the `quantization` argument (fp8).",
     "quant_mismatch", "--quantization", {"quantization": None}),
    ("ValueError: Model architectures ['FooForCausalLM'] are not supported for now. Supported architectures: dict_keys([...])",
     "arch_unsupported", None, {}),
    ("huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.1-8B/resolve/main/config.json.",
     "hf_auth", "--hf-token", {}),
    ("ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
     "port_in_use", "--port", {"port": 8001}),
    ("vllm: error: unrecognized arguments: --swap-space 4",
     "unknown_flag", "--swap-space", {}),
    ("RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
     "engine_failed", None, {}),
]  # fmt: skip


@pytest.mark.parametrize(("line", "kind", "flag", "fix"), ERRORS, ids=[e[1] for e in ERRORS])
def test_errors_are_diagnosed_with_flag_and_value(line, kind, flag, fix):
    msg = split_line(clean_line(line)).message
    diag = diagnose(msg)
    assert diag is not None
    assert diag.kind == kind
    assert diag.flag == flag
    changes = dict(diag.fix.set) if diag.fix else {}
    for key, value in fix.items():
        assert changes[key] == value
    assert diag.explanation


def test_root_cause_wins_over_generic_wrapper():
    lines = [
        "(EngineCore_DP0 pid=9) ERROR 10-31 15:07:49 [core.py:708] EngineCore failed to start.",
        "(EngineCore_DP0 pid=9) ERROR 10-31 15:07:49 [core.py:708] Traceback (most recent call last):",
        "(EngineCore_DP0 pid=9) ERROR 10-31 15:07:49 [core.py:708] ValueError: To serve at least one request with the model's max seq len (131072), (9.0 GiB KV cache is needed, which is larger than the available KV cache memory (1.71 GiB). Based on the available memory, the estimated maximum model length is 24880. Try increasing",
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore_DP0': 1}",
    ]
    state = replay(lines)
    assert state.state == "failed"
    assert state.root_cause.kind == "kv_cache_too_small"
    assert state.root_cause.suggestion == "--max-model-len 24880"


def test_error_then_hang_is_failed_not_starting():
    state = replay(
        [
            "INFO 01-01 00:00:00 [a.py:1] Starting to load model m...",
            "ValueError: No available memory for the cache blocks.",
        ]
    )
    assert state.state == "failed"  # even though the process has not exited


def test_exit_before_ready_is_failure_unless_stop_requested():
    assert process_exited(RunState(), 1).state == "failed"
    assert process_exited(RunState(), 0, stop_requested=True).state == "stopped"
    ready = replay(["INFO:     Application startup complete."])
    assert ready.state == "ready"
    assert process_exited(ready, 0).state == "stopped"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[32mINFO\x1b[0m hello", "INFO hello"),
        ("Loading: 10%\rLoading: 50%\rLoading: 100%\n", "Loading: 100%"),
        ("a\x00b", "ab"),
        ("\x1b]0;title\x07text", "text"),
    ],
)
def test_clean_line(raw, clean):
    assert clean_line(raw) == clean


def test_very_long_lines_are_cut():
    out = clean_line("x" * 100_000)
    assert len(out) < 8300 and "more characters" in out


def test_shard_progress_and_cuda_graph_progress():
    parser = LogParser()
    _, ev = parser.feed(
        "Loading safetensors checkpoint shards:  50% Completed | 2/4 [00:01<00:01,  1.5it/s]"
    )
    assert ev[0].name == "loading" and ev[0].progress == 0.5 and ev[0].detail == "shard 2/4"
    _, ev = parser.feed(
        "Capturing CUDA graphs (mixed prefill-decode, PIECEWISE):  45%|████▌     | 30/67 [00:02<00:02, 14.1it/s]"
    )
    assert ev[0].name == "cuda_graphs" and ev[0].progress == 0.45


def test_memory_lines_of_several_versions():
    assert parse_memory("Free memory on device (43.93/44.42 GiB) on startup. Desired GPU memory utilization is (0.9, 39.98 GiB). Actual usage is 27.72 GiB for weight, 1.4 GiB for peak activation, 0.21 GiB for non-torch memory, and 3.45 GiB for CUDAGraph memory.") == {
        "weights_gib": 27.72, "activation_gib": 1.4, "non_torch_gib": 0.21, "cuda_graph_gib": 3.45,
        "utilization": 0.9, "budget_gib": 39.98, "free_gib": 43.93, "total_gib": 44.42,
    }  # fmt: skip
    assert parse_memory("model weights take 0.52GiB; non_torch_memory takes 0.07GiB; PyTorch activation peak memory takes 1.61GiB; the rest of the memory reserved for KV Cache is 16.09GiB.") == {
        "weights_gib": 0.52, "non_torch_gib": 0.07, "activation_gib": 1.61, "kv_cache_gib": 16.09,
    }  # fmt: skip


def test_reducer_ignores_unknown_events():
    assert reduce(RunState(), object()) == RunState()  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_parser_never_raises(text):
    parser = LogParser()
    state = RunState()
    for raw in text.split("\n"):
        _, events = parser.feed(raw)
        for ev in events:
            state = reduce(state, ev)
    json.dumps(state.as_json())


HOSTILE = [
    "(APIServer pid=) INFO",
    "(x pid=99999999999999999999) INFO 01-01 00:00:00 [a.py:1] KV cache size: 9"
    + "9" * 400
    + " tokens",
    "Avg prompt throughput: nan tokens/s",
    "Maximum concurrency for 1e309 tokens per request: 1e309x",
    "# GPU blocks: " + ",".join(["1"] * 5000),
    "\x1b[" * 1000,
    "\r" * 1000,
    "Loading safetensors checkpoint shards: 999% Completed | 9/0",
]


@pytest.mark.parametrize("line", HOSTILE)
def test_hostile_lines(line):
    state = replay([line])
    json.dumps(state.as_json())


# -- logs at scale (#11): the prefilter, the fast paths, bounded lines ---------------------------


def test_every_needle_passes_the_prefilter():
    """Events need a needle; the prefilter's anchors must find every needle (none is lost)."""
    from tui.core.logparse import ANCHORS, NEEDLES, may_matter

    assert len(ANCHORS) <= len(NEEDLES)
    for needle in NEEDLES:
        assert may_matter(f"(EngineCore pid=1) INFO 01-01 00:00:00 [x.py:1] {needle} 12"), needle


def _corpus() -> list[str]:
    lines = (
        (DATA / "cpu-0.32.0-startup-and-throughput.log").read_text(errors="replace").splitlines()
    )
    for log in sorted((DATA / "failures").glob("*.log")):
        lines += log.read_text(errors="replace").splitlines()
    for case in CASES:
        lines += case["evidence"]
    lines += [
        '(APIServer pid=1) INFO:     127.0.0.1:5000 - "POST /v1/completions HTTP/1.1" 200 OK',
        "\x1b[32mINFO\x1b[0m 11-27 00:20:00 [x.py:1] Model loading took 1.5 GiB and 3 s",
        "Loading safetensors checkpoint shards:  50% Completed | 2/4\rLoading safetensors checkpoint shards: 100% Completed | 4/4",
    ]
    return lines


def test_fast_event_path_equals_the_full_path_on_real_logs():
    full, fast = LogParser(), LogParser()
    for raw in _corpus():
        _, expected = full.feed(raw)
        assert fast.events(raw) == expected, raw


THROUGHPUT_LAYOUTS = [
    "Engine 000: Avg prompt throughput: 1,234.5 tokens/s, Avg generation throughput: 56.7 tokens/s, Running: 3 reqs, Waiting: 1 reqs, GPU KV cache usage: 12.5%, Prefix cache hit rate: 40.0%",
    "Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 9.9 tokens/s, Running: 1 reqs, Swapped: 0 reqs, Pending: 2 reqs, GPU KV cache usage: 1.0%, CPU KV cache usage: 0.0%.",
    "Avg prompt throughput: 5.0 tokens/s, Avg generation throughput: 9.9 tokens/s, Running: 1 reqs, Waiting: 0 reqs, CPU KV cache usage: 0.1%, Prefix cache hit rate: GPU: 3.0%, CPU: 0.0%",
    "Avg prompt throughput: 5.0 tokens/s, Avg generation throughput: 9.9 tokens/s, Running: 1 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.1%, Prefix cache hit rate: 3.0%, MM cache hit rate: 1.0%",
    "Avg prompt throughput: 5.0 tokens/s, Running: 1 reqs",
]  # fmt: skip


@pytest.mark.parametrize("line", THROUGHPUT_LAYOUTS)
def test_layout_pattern_and_part_reader_agree(line):
    from tui.core.logparse import _from_parts

    generic: dict[str, object] = {}
    _from_parts(line, generic)
    tp = parse_throughput(line)
    for name, value in generic.items():
        assert getattr(tp, name) == value, name


def test_one_huge_line_is_read_in_bounded_memory(tmp_path):
    import tracemalloc

    from tui.core.logparse import MAX_LINE, bounded_lines

    path = tmp_path / "huge.log"
    with path.open("w") as fh:
        fh.write("x" * 30_000_000 + "\n")
        fh.write(
            "(APIServer pid=1) ERROR 01-01 00:00:00 [x.py:1] OSError: [Errno 98] Address already in use\n"
        )
    tracemalloc.start()
    with path.open() as fh:
        lines = list(bounded_lines(fh))
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000
    assert len(lines) == 2 and len(lines[0]) < MAX_LINE * 5 and "more characters" in lines[0]
    with path.open() as fh:
        state = replay(bounded_lines(fh))
    assert state.root_cause is not None and state.root_cause.kind == "port_in_use"


def test_replay_equals_reducing_every_event_in_order():
    """replay reads stats lines last and only the kept window: the same state as one by one."""
    from dataclasses import replace as dc_replace

    base = _corpus()
    stats = [ln for ln in base if "Avg prompt throughput" in ln]
    lines = list(base)
    for i in range(1500):  # more samples than the window keeps, interleaved with other lines
        lines.append(stats[i % len(stats)].replace("Running: 0 reqs", f"Running: {i} reqs"))
        if i % 7 == 0:
            lines.append(base[i % len(base)])
    lines.append("\x1b[0m" + stats[0])  # a coloured stats line takes the full path
    parser, expected = LogParser(), RunState()
    for raw in lines:
        _, events = parser.feed(raw)
        for ev in events:
            expected = reduce(expected, ev)
    expected = dc_replace(expected, lines=parser.line_no)
    got = replay(lines)
    assert got == expected
    assert len(got.throughput) == 720
