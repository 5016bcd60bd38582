"""`vllm-tui watch` and `command --format docker|compose|k8s` as a user runs them (a real
subprocess), against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ..adapters.local_http import FakeVllm, free_port

KEY = "sk-cli-watch-SECRET-9d1"


def vllm_tui(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    full = dict(os.environ)
    full.pop("VLLM_API_KEY", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        stdin=subprocess.DEVNULL,
    )


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def fake():
    server = FakeVllm(api_key=KEY)
    server.server.start()
    yield server
    server.server.stop()


def test_json_lines_have_run_keys_plus_url(fake):
    proc = vllm_tui(
        "watch", fake.server.url, "--headless", "--json", "--samples", "3", "--interval", "0.2",
        env={"VLLM_API_KEY": KEY},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = lines(proc.stdout)
    server = [o for o in out if o["type"] == "server"]
    metrics = [o for o in out if o["type"] == "metrics"]
    assert len(server) == 1 and server[0]["model"] == "tiny"
    assert "memory" in server[0]["not_available"]
    assert len(metrics) == 3
    assert all(m["url"] == fake.server.url and m["state"] == "ready" for m in metrics)
    assert "gen_tps" not in metrics[0] and metrics[1]["gen_tps"] > 0  # a rate needs two scrapes
    assert {"prompt_tps", "running", "waiting", "kv_cache_usage_pct"} <= set(metrics[1])
    assert KEY not in proc.stdout + proc.stderr


def test_key_from_a_file_and_401_without_it(fake, tmp_path):
    keyfile = tmp_path / "key"
    keyfile.write_text(KEY + "\n")
    ok = vllm_tui("watch", fake.server.url, "--headless", "--json", "--samples", "1",
                  "--api-key-file", str(keyfile))  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    denied = vllm_tui("watch", fake.server.url, "--headless", "--json", "--samples", "1")
    assert denied.returncode == 1
    (line,) = lines(denied.stdout)
    assert line["type"] == "state" and line["state"] == "unauthorized"
    assert "VLLM_API_KEY" in line["message"] and line["retry_in_s"] > 0


def test_unreachable_and_two_servers_at_once(fake):
    gone = f"http://127.0.0.1:{free_port()}"
    proc = vllm_tui("watch", fake.server.url, gone, "--headless", "--samples", "2",
                    "--interval", "0.2", env={"VLLM_API_KEY": KEY})  # fmt: skip
    assert proc.returncode == 1  # one of them is not ready
    assert f"{gone}  unreachable  connection refused" in proc.stdout
    assert f"{fake.server.url}  ready  tiny  gen " in proc.stdout
    assert "not available from the API" in proc.stdout
    assert f"{gone}: unreachable" in proc.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["watch", "ftp://host", "--headless"], "only http"),
        (["watch", "http://h:1", "--api-key", KEY, "--headless"], "VLLM_API_KEY"),
        (["watch", "http://h:1", "--interval", "0"], "--interval"),
        (["watch", "http://h:1"], "--headless"),  # no terminal: the app cannot open
        (["watch", "http://h:1", "--headless", "--api-key-file", "/nonexistent/k"], "api-key-file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    proc = vllm_tui(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert KEY not in proc.stderr


@pytest.mark.parametrize("fmt", ["docker", "compose", "k8s"])
def test_command_exports_never_print_the_key(fmt):
    proc = vllm_tui("command", "Qwen/Qwen3-8B", "--api-key", KEY, "--hf-token", "hf_SECRETxyz",
                    "--tensor-parallel-size", "2", "--format", fmt, "--vllm-version", "0.11.0")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert KEY not in proc.stdout and "hf_SECRETxyz" not in proc.stdout
    assert "vllm/vllm-openai:v0.11.0" in proc.stdout
    if fmt != "docker":
        docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
        assert docs
    else:
        assert "-e VLLM_API_KEY" in proc.stdout


def test_command_export_options():
    proc = vllm_tui("command", "m/x", "--format", "k8s", "--hf-cache", "pvc:cache:1Ti",
                    "--startup-timeout", "3600", "--name", "chat", "--namespace", "ml")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(proc.stdout) if d]
    assert kinds == ["PersistentVolumeClaim", "Deployment", "Service"]
    bad = vllm_tui("command", "m/x", "--format", "k8s", "--startup-timeout", "5")
    assert bad.returncode == 2 and "startup-timeout" in bad.stderr
