"""A hang-up always ends the UI, and stops only a server this session launched itself.

The pty test is the issue's scenario: the app in --demo with the monitor open (F5), then the
terminal disappears (the pty master is closed, as tmux kill-session or a dropped SSH
connection does). Textual's shutdown may block on the dead terminal; the exit deadline of
tui.adapters.hangup must end the process anyway.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tui.adapters import hangup


class _Run:
    def __init__(self) -> None:
        self.stopped = False

    def alive(self) -> bool:
        return not self.stopped


def test_only_a_run_launched_here_is_stopped_on_hangup(monkeypatch):
    monkeypatch.setattr(hangup, "exit_deadline", lambda *_a, **_k: True)
    mine, attached = _Run(), _Run()

    def stop(r: _Run) -> None:
        r.stopped = True

    assert hangup.hang_up(mine, launched_here=True, stop=stop) and mine.stopped
    assert not hangup.hang_up(attached, launched_here=False, stop=stop)
    assert not attached.stopped
    assert not hangup.hang_up(None, launched_here=True, stop=stop)


def test_exit_deadline_ends_a_process_whose_shutdown_hangs():
    code = (
        "from tui.adapters.hangup import exit_deadline; import threading, time\n"
        "exit_deadline(0.5, code=7)\n"
        "threading.Event().wait(60)  # a shutdown that never returns\n"
    )
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert proc.returncode == 7 and time.monotonic() - t0 < 10


def _wait_exit(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    return None


def _app_then_hang_up(args: list[str], delay: float, keys: bytes = b"") -> None:
    """Run the app on a fresh pty, let it draw, send `keys`, wait, then close the terminal;
    asserts the app process ends."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on a fresh pty of 100x30
        os.environ["COLUMNS"], os.environ["LINES"] = "100", "30"
        os.execv(sys.executable, [sys.executable, "-m", "tui", *args])
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(seen) < 20000:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        assert seen, "the app drew nothing"
        if keys:
            os.write(fd, keys)
        end = time.monotonic() + delay
        while time.monotonic() < end:  # keep reading a while, like a live terminal
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    break
        os.close(fd)  # the terminal goes away: SIGHUP, and every later write fails
        fd = -1
        status = _wait_exit(pid, 20 + hangup.DEFAULT_DEADLINE_S)
        assert status is not None, "the app outlived its terminal"
    finally:
        if fd >= 0:
            os.close(fd)
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.mark.parametrize("delay", [0.5, 3.0])
def test_closing_the_terminal_ends_the_app_with_the_monitor_open(delay):
    _app_then_hang_up(["--demo"], delay, keys=b"\x1b[15~")  # F5: the monitor


def test_hangup_of_an_attached_app_leaves_the_server_running(monkeypatch):
    """A server started with --detach (here: by the launcher directly), then attached in the
    app: closing the app's terminal ends the app and leaves the server serving."""
    from tests.adapters.test_process_truth import start_fake
    from tui.adapters import runs
    from tui.adapters.launcher import free_port

    run = start_fake(free_port("127.0.0.1", 19990), monkeypatch)
    try:
        _app_then_hang_up(["--attach", run.id], 3.0)
        time.sleep(1.0)
        assert run.alive() and not run.stop_requested()
    finally:
        runs.stop(run, grace_int=3, grace_term=2, grace_kill=2)
