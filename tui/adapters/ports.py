"""Port reservations between vllm-tui processes: one lock file per port in the state dir.

A bind test alone races: two `run --detach` on the same port both see it free, then one
vLLM dies with "address already in use" half a minute later. The launcher takes an
exclusive `flock` on `ports/<port>.lock` before the bind test and hands the locked file to
the runner shim, which keeps it (without using it) for as long as it lives; the lock goes
away with the shim, even on SIGKILL. The loser of the race gets a clear error naming the run
that holds the port.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

from tui.adapters.settings import state_dir
from tui.core.errors import UserError


def lock_path(port: int) -> Path:
    return state_dir() / "ports" / f"{int(port)}.lock"


class PortLock:
    """An exclusive reservation of one port; `fd` is passed to the shim to keep it held."""

    def __init__(self, port: int, fd: int) -> None:
        self.port = port
        self.fd = fd

    def record(self, run_id: str) -> None:
        """Say who holds the port (read by the loser of a race for its message)."""
        data = json.dumps({"run": run_id, "pid": os.getpid()}).encode()
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, data, 0)
        except OSError:
            pass  # only the loser's message gets less precise

    def release(self) -> None:
        """Close our descriptor (the lock stays held while the shim keeps its copy)."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1

    def __enter__(self) -> PortLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def holder(port: int) -> str | None:
    """The run id recorded by the current holder of `port`, if any."""
    try:
        data = json.loads(lock_path(port).read_text())
    except (OSError, ValueError):
        return None
    run = data.get("run") if isinstance(data, dict) else None
    return run if isinstance(run, str) else None


def reserve(port: int) -> PortLock:
    """Take the port's lock or raise UserError naming the run that has it."""
    path = lock_path(port)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise UserError(
            f"cannot write vllm-tui's state in {path.parent}: {exc.strerror or exc}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            who = holder(port)
            raise UserError(
                f"port {port} is taken by another vllm-tui run"
                + (f" ({who})" if who else "")
                + " that is starting or serving there",
                hint=f"choose another --port, or `vllm-tui stop {who or 'RUN'}`",
            ) from None
        raise UserError(f"cannot reserve port {port}: {exc.strerror or exc}") from None
    return PortLock(port, fd)
