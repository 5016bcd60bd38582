"""Is this pid really the process we launched? Checked before any signal and before `ps`
calls a run "running".

At launch every run gets a random token, placed in the environment of the runner shim (and
inherited by vLLM and its workers), and the shim's start time is recorded. A pid from
run.json is trusted only when its environment holds the token (read through psutil) or,
where the environment cannot be read, when its start time matches the recorded one. A pid
that was reused by an unrelated process, or a run.json edited to point elsewhere, fails both.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

TOKEN_ENV = "VLLM_TUI_RUN_TOKEN"
"""Environment variable holding the run's token in every process of the run."""

START_TOLERANCE_S = 0.5
"""psutil derives start times from boot time + clock ticks: allow a little jitter."""


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
    """When `pid` started (seconds since the epoch), or None if it is gone or unreadable."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
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
        if started is not None and abs(proc.create_time() - started) > START_TOLERANCE_S:
            return False
        try:
            env = proc.environ()
        except psutil.AccessDenied:
            # Unreadable environment (another user, or a process mid-exec): only a matching
            # recorded start time can vouch for it.
            return started is not None
        return secrets.compare_digest(env.get(TOKEN_ENV, ""), token)
    except (psutil.Error, OSError):
        return False


def ours(pids: Iterable[int], token: str | None) -> list[int]:
    """The pids among `pids` that carry the run's token."""
    return [pid for pid in pids if is_ours(pid, token)]
