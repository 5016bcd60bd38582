"""End to end against the real vLLM CPU build: launch through our launcher, read its real log
and /metrics, compare its memory report with our estimate, diagnose failures, stop cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tui.adapters import runs
from tui.adapters.launcher import free_port, launch
from tui.adapters.model_source import facts_from_dir
from tui.adapters.vllm_env import resolve_vllm
from tui.adapters.watcher import Watcher
from tui.core.config import ServeConfig
from tui.core.estimate import Target, estimate
from tui.core.gpu_catalog import custom_gpu
from tui.core.logparse import Throughput

from .conftest import cli

pytestmark = [pytest.mark.e2e, pytest.mark.vllm]
SECRET = "sk-e2e-SECRET-7f3a9c"
KV_BYTES = 96 << 20


def drive(watcher: Watcher, until, timeout: float) -> list:
    """Step the watcher until `until(update)` holds; returns every update seen."""

    async def loop():
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            update = await watcher.step()
            seen.append(update)
            if until(update):
                return seen
            await asyncio.sleep(0.2)
        raise AssertionError(
            f"timed out; state={watcher.state.state} errors={watcher.state.errors}"
        )

    return asyncio.run(loop())


@pytest.fixture(scope="module")
def server(tiny_model, vllm_python, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("VLLM_TUI_HOME", "VLLM_TUI_VLLM_PYTHON")}
    os.environ["VLLM_TUI_HOME"] = str(home)
    os.environ["VLLM_TUI_VLLM_PYTHON"] = vllm_python
    install = resolve_vllm(vllm_python)
    port = free_port("127.0.0.1", 18300)
    cfg = ServeConfig.build(
        str(tiny_model),
        {
            "max_model_len": 512,
            "kv_cache_memory_bytes": KV_BYTES,
            "api_key": SECRET,
            "served_model_name": ["tiny"],
            "port": port,
            "max_num_seqs": 8,
        },
    )
    run = launch(cfg, install)
    watcher = Watcher(run, api_key=SECRET, metrics_every=1.0)
    try:
        drive(watcher, lambda u: u.state.state in ("ready", "failed"), timeout=300)
        yield run, cfg, watcher, install
    finally:
        runs.stop(run)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_reaches_ready_and_prints_the_kv_tokens_we_predict(server, tiny_model):
    run, cfg, watcher, install = server
    state = watcher.state
    assert state.state == "ready", state.root_cause
    assert state.vllm_version == install.version == "0.32.0"
    mem = state.memory_dict
    assert mem["kv_cache_tokens"] > 0 and mem["max_concurrency"] > 0
    # Our estimator, told vLLM's exact KV budget, must print the same tokens and concurrency.
    facts = facts_from_dir(tiny_model)
    est = estimate(
        facts,
        cfg,
        Target(
            gpu=custom_gpu(mem.get("total_gib", 16.0)), vllm_version=install.version, device="cpu"
        ),
    )
    assert est.kv.tokens == int(mem["kv_cache_tokens"])
    assert round(est.kv.max_concurrency, 2) == mem["max_concurrency"]
    assert est.kv.bytes_per_token == 1024  # 2 layers x 2 (K,V) x 2 heads x 64 x 2 bytes
    names = [p.name for p in state.phases]
    for phase in ("config", "loading", "kv_cache", "engine_ready", "api_ready"):
        assert phase in names


def test_throughput_from_the_log_line_and_from_metrics(server):
    run, cfg, watcher, _ = server
    headers = {"Authorization": f"Bearer {SECRET}"}
    body = {
        "model": "tiny",
        "prompt": "hello world the quick brown fox",
        "max_tokens": 48,
        "temperature": 0.8,
    }
    with httpx.Client(timeout=60) as client:
        for _ in range(8):
            r = client.post(run.url + "/v1/completions", json=body, headers=headers)
            assert r.status_code == 200, r.text
    seen_log = seen_metrics = None

    def done(update):
        nonlocal seen_log, seen_metrics
        for ev in update.events:
            if isinstance(ev, Throughput) and (ev.gen_tps or 0) > 0:
                seen_log = ev
        if update.metrics is not None and (update.metrics.gen_tps or 0) > 0:
            seen_metrics = update.metrics
        return seen_log is not None and seen_metrics is not None

    drive(watcher, done, timeout=60)
    assert (
        seen_log.kv_device == "CPU"
        and seen_log.running is not None
        and seen_log.waiting is not None
    )
    assert seen_metrics.running is not None and seen_metrics.kv_cache_usage_pct is not None
    assert seen_metrics.ttft_p50_s is not None and seen_metrics.ttft_p50_s > 0


def test_api_key_is_enforced_and_never_in_argv_files_or_ps(server):
    run, cfg, watcher, _ = server
    r = httpx.post(
        run.url + "/v1/completions",
        json={"model": "tiny", "prompt": "x", "max_tokens": 2},
        timeout=30,
    )
    assert r.status_code == 401
    pid = run.vllm_pid()
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert SECRET not in cmdline and "--api-key" not in cmdline
    for path in run.dir.iterdir():
        assert SECRET not in path.read_text(errors="replace"), path
    ps = cli("ps", "--json", "--all", check=True, home=run.dir.parent.parent)
    assert SECRET not in ps.stdout
    assert any(r["id"] == run.id and r["alive"] for r in json.loads(ps.stdout))


def test_stop_leaves_no_process_behind(server):
    run, *_ = server
    pids = runs.group_pids(run.pgid)
    assert pids, "server should be running before the stop"
    assert runs.stop(run) == []
    assert runs.group_pids(run.pgid) == []
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        )
    info = run.exit_info()
    assert info is not None and info["stop_requested"] is True


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("flags", "kind", "flag", "value"),
    [
        (
            ["--tensor-parallel-size", "3"],
            "tp_heads",
            "--tensor-parallel-size",
            {"tensor_parallel_size": 2},
        ),
        (
            ["--max-model-len", "4096"],
            "max_len_above_derived",
            "--max-model-len",
            {"max_model_len": 1024},
        ),
    ],
)
def test_failing_configs_are_diagnosed(vllm_env, tiny_model, flags, kind, flag, value):
    port = str(free_port("127.0.0.1", 18400))
    proc = cli("run", str(tiny_model), "--port", port, "--json", "--force", *flags, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    events = _events(proc.stdout)
    final = events[-1]
    assert final["type"] == "exit" and final["state"] == "failed"
    root = final["root_cause"]
    assert root["kind"] == kind and root["flag"] == flag
    for k, v in value.items():
        assert root["fix"][k] == v
    run_id = events[0]["id"]
    ps = json.loads(cli("ps", "--json", check=True).stdout)
    assert not any(r["id"] == run_id and r["alive"] for r in ps)


def test_detach_then_attach_then_stop(vllm_env, tiny_model):
    port = str(free_port("127.0.0.1", 18500))
    # Started in its own session, like a shell over SSH that will go away.
    starter = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(tiny_model), "--port", port, "--max-model-len", "256",
         "--gpu-memory-utilization", "0.10", "--detach", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    out, err = starter.communicate(timeout=300)
    assert starter.returncode == 0, out + err
    run_id = _events(out)[0]["id"]
    try:
        os.killpg(starter.pid, signal.SIGHUP)  # the "SSH session" hangs up
    except ProcessLookupError:
        pass
    time.sleep(2)
    ps = {r["id"]: r for r in json.loads(cli("ps", "--json", check=True).stdout)}
    assert ps[run_id]["alive"], "a detached server survives the hang-up"
    attach = subprocess.Popen(
        [sys.executable, "-m", "tui", "attach", run_id, "--headless", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    first = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = attach.stdout.readline()
        if not line:
            break
        first.append(json.loads(line))
        if first[-1].get("type") == "state" and first[-1].get("state") == "ready":
            break
    assert any(e.get("type") == "state" and e.get("state") == "ready" for e in first), first
    assert any(e.get("type") == "memory" and "kv_cache_tokens" in e for e in first), (
        "attach rebuilt the state from the log"
    )
    stopped = cli("stop", run_id, check=True)
    assert "stopped" in stopped.stdout
    rest, _ = attach.communicate(timeout=60)
    final = _events(rest)[-1]
    assert final["type"] == "exit" and final["state"] == "stopped"
    ps = {r["id"]: r for r in json.loads(cli("ps", "--json", check=True).stdout)}
    assert not ps[run_id]["alive"]


def test_hangup_of_an_attached_run_stops_the_server(vllm_env, tiny_model):
    port = str(free_port("127.0.0.1", 18600))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(tiny_model), "--port", port, "--max-model-len", "256",
         "--gpu-memory-utilization", "0.10", "--json"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    events = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
        if events[-1].get("state") in ("ready", "failed"):
            break
    assert events[-1].get("state") == "ready", events[-3:]
    run_id = events[0]["id"]
    os.killpg(proc.pid, signal.SIGHUP)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert _events(rest)[-1]["state"] == "stopped"
    ps = {r["id"]: r for r in json.loads(cli("ps", "--json", check=True).stdout)}
    assert not ps[run_id]["alive"]
