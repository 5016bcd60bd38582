"""Is this pid really the process we launched? Checked before any signal and before `ps`
calls a run "running".

At launch every run gets a random token, placed in the environment of the runner shim (and
inherited by vLLM and its workers), and the shim's start time is recorded as seconds since
boot (the kernel's own clock ticks, which never change for a process: an epoch time is boot
time + ticks, and the boot time the kernel reports moves by a second on some virtual machines). A pid from
run.json is trusted only when its environment holds the token (read through psutil) or,
where the environment cannot be read, when its start time matches the recorded one. A pid
that was reused by an unrelated process, or a run.json edited to point elsewhere, fails both.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable

TOKEN_ENV = "VLLM_TUI_RUN_TOKEN"
"""Environment variable holding the run's token in every process of the run."""

START_TOLERANCE_S = 0.02
"""Start times are clock ticks since boot (1/100 s), exact for a given process: the tolerance
only absorbs float rounding."""


def new_token() -> str:
    return secrets.token_hex(16)


def valid_pid(value: object) -> int | None:
    """A pid from a JSON file: a real integer above 1 (not a bool, float or string), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 < value < 1 << 31 else None


def valid_time(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value > 0 else None


def start_time(pid: int) -> float | None:
    """When `pid` started, in seconds since boot, or None if it is gone or unreadable.

    Field 22 of /proc/PID/stat (clock ticks since boot); the command name before it is in
    parentheses and may itself hold spaces or parentheses, so fields are counted after the last
    ')'."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            after_name = f.read().rsplit(b")", 1)[1].split()
        return int(after_name[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def is_ours(pid: int, token: str | None, started: float | None = None) -> bool:
    """True only when `pid` is a live process of the run identified by `token`.

    `started` (the recorded start time, known for the shim) must match when given. Without a
    token (a run.json from an older version or a hand-edited one) nothing can be verified and
    the answer is False: an unverified process is never signalled.
    """
    import psutil

    if not token or valid_pid(pid) is None:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        if started is not None:
            now = start_time(pid)
            if now is None or abs(now - started) > START_TOLERANCE_S:
                return False
        try:
            env = proc.environ()
        except psutil.AccessDenied:
            env = {}
        if not env:
            # Unreadable (another user) or empty: a process in the middle of execve has its new
            # memory map before the kernel has placed its arguments and environment there, and
            # the parent's Popen has already returned by then. Only a matching recorded start
            # time can vouch for it.
            return started is not None
        return secrets.compare_digest(env.get(TOKEN_ENV, ""), token)
    except (psutil.Error, OSError):
        return False


def ours(pids: Iterable[int], token: str | None) -> list[int]:
    """The pids among `pids` that carry the run's token."""
    return [pid for pid in pids if is_ours(pid, token)]
