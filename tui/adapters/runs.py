"""Runs on disk: one directory per launch holding the exact command (no secrets), the names
of the environment variables given (not their values), pid files and the full raw log.

    runs/<id>/run.json        what was launched (argv, env names, url, masked config), the
                              shim's pid and start time, and the run's identity token
    runs/<id>/server.log      everything the server printed (written by the server itself)
    runs/<id>/vllm.json       the vLLM pid (written by the runner shim)
    runs/<id>/stop-requested  present once vllm-tui asked the run to stop
    runs/<id>/exit.json       exit code and time (written by the runner shim)

No pid read from these files is trusted on its own: `identity.is_ours` checks the run's token
(in the process environment) and start time before a run is called alive or signalled.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tui.adapters.identity import (
    START_TOLERANCE_S,
    TOKEN_ENV,
    is_ours,
    start_time,
    valid_pid,
    valid_time,
)
from tui.adapters.runs_listing import (
    _CHILDREN,
    KEEP_DAYS,
    KEEP_RUNS,
    STOP_MARKER,
    ProcessTable,
    Run,
    find_run,
    group_pids,
    list_runs,
    process_table,
    prune,
    prune_limits,
    reap_children,
)
from tui.adapters.settings import atomic_write, runs_dir
from tui.core.errors import UserError

__all__ = [
    "KEEP_DAYS",
    "KEEP_RUNS",
    "STOP_MARKER",
    "TOKEN_ENV",
    "LogFollower",
    "ProcessTable",
    "Run",
    "discard",
    "find_run",
    "group_pids",
    "is_ours",
    "list_runs",
    "new_run",
    "process_table",
    "prune",
    "prune_limits",
    "reap_children",
    "request_stop",
    "runs_dir",
    "start",
    "stop",
    "valid_pid",
    "valid_time",
]


def _slug(text: str) -> str:
    base = text.rstrip("/").rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9.]+", "-", base).strip("-")[:40] or "model"


def _state_error(where: Path, exc: OSError) -> UserError:
    return UserError(f"cannot write vllm-tui's state in {where}: {exc.strerror or exc}")


def new_run(
    model: str,
    argv: Sequence[str],
    env_names: Sequence[str],
    url: str,
    extra: Mapping[str, Any] | None = None,
) -> Run:
    """Create the run directory with its run.json, or raise UserError leaving nothing behind."""
    root = runs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
    except OSError as exc:
        raise _state_error(root, exc) from None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{_slug(model)}"
    d = root / run_id
    n = 1
    while True:
        try:
            d.mkdir(mode=0o700)
            break
        except FileExistsError:
            n += 1
            d = root / f"{run_id}-{n}"
        except OSError as exc:
            raise _state_error(root, exc) from None
    info = {
        "id": d.name,
        "model": model,
        "argv": list(argv),
        "env_names": sorted(env_names),
        "url": url,
        "created": time.time(),
        "cwd": os.getcwd(),
        **(extra or {}),
    }
    try:
        atomic_write(d / "run.json", json.dumps(info, indent=2))
    except OSError as exc:
        discard(d)
        raise _state_error(root, exc) from None
    return Run(d.name, d, info)


def discard(run_dir: Path) -> None:
    """Remove a run directory that never started (best effort)."""
    shutil.rmtree(run_dir, ignore_errors=True)


def start(run: Run, env: Mapping[str, str], pass_fds: Sequence[int] = ()) -> Run:
    """Start the runner shim in a new session; it owns the server from now on.

    `env` must hold the run's token (TOKEN_ENV); `pass_fds` are kept open in the shim (the
    port reservation). On any failure the run directory is removed and UserError raised.
    """
    if env.get(TOKEN_ENV) != run.token:
        raise ValueError("the shim's environment must carry the run's token")
    try:
        log = open(run.log_path, "ab", buffering=0)  # noqa: SIM115 - handed to the child
        os.chmod(run.log_path, 0o600)
    except OSError as exc:
        discard(run.dir)
        raise _state_error(run.dir.parent, exc) from None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.adapters.runner_shim", str(run.dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),
        )
    except OSError as exc:
        discard(run.dir)
        raise UserError(f"cannot start the runner: {exc.strerror or exc}") from None
    finally:
        log.close()
    _CHILDREN[proc.pid] = proc

    info = dict(run.info) | {
        "pgid": proc.pid,
        "shim_pid": proc.pid,
        "shim_started_boot": start_time(proc.pid),
    }
    try:
        atomic_write(run.dir / "run.json", json.dumps(info, indent=2))
    except OSError as exc:
        # Without its pid on disk nobody could stop it later: stop it now.
        started = Run(run.id, run.dir, info)
        stop(started, grace_int=5.0, grace_term=2.0)
        discard(run.dir)
        raise _state_error(run.dir.parent, exc) from None
    return Run(run.id, run.dir, info)


def request_stop(run: Run) -> None:
    """Leave the mark that makes the run's end a requested stop (not a failure)."""
    try:
        (run.dir / STOP_MARKER).touch()
    except OSError:
        pass  # read-only state dir: the shim still records the signal it received


def stop(
    run: Run, *, grace_int: float = 30.0, grace_term: float = 10.0, grace_kill: float = 5.0
) -> list[int]:
    """SIGINT (graceful) -> SIGTERM -> SIGKILL to the run's own processes; returns pids left.

    Only processes that prove they belong to the run (identity.is_ours) are ever signalled,
    one by one: a stale or forged pgid in run.json cannot make us signal someone else. A
    process proven ours once stays ours while it is the same process (same pid, same start
    time, still in the run's group): an exiting process no longer shows its environment, and
    the stop is over only when it is gone too.
    """
    known: dict[int, float] = {}
    if not _still_ours(run, known):
        return []
    request_stop(run)
    steps: list[tuple[str, signal.Signals, float]] = [
        ("int", signal.SIGINT, grace_int),
        ("term", signal.SIGTERM, grace_term),
        ("kill", signal.SIGKILL, grace_kill),
    ]
    for step, sig, grace in steps:
        pids = _still_ours(run, known)
        if not pids:
            return []
        if step == "int":
            # The shim forwards SIGINT to vLLM for a graceful stop; without a shim, vLLM itself.
            shim = run.shim_pid if run.shim_pid in pids else None
            vllm = run.vllm_pid()
            targets = [shim] if shim else [vllm] if vllm in pids else pids
        else:
            targets = pids
        for pid in targets:
            if pid is None:
                continue
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
            except PermissionError as exc:
                raise UserError(f"cannot stop run {run.id}: {exc}") from None
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _still_ours(run, known):
                return []
            time.sleep(0.1)
    return _still_ours(run, known)


def _still_ours(run: Run, known: dict[int, float]) -> list[int]:
    """The run's live processes: those proving it now, plus those that proved it earlier in
    this stop and are still the same process in the run's group. Updates `known`."""
    table = process_table()
    for pid in run.owned_pids(table):
        created = start_time(pid)
        if created is not None:
            known.setdefault(pid, created)
    group = set(table.get(run.pgid, [])) if run.pgid is not None else set()
    live = []
    for pid, created in list(known.items()):
        now = start_time(pid) if pid in group else None
        if now is not None and abs(now - created) <= START_TOLERANCE_S:
            live.append(pid)
        else:
            known.pop(pid)
    return sorted(live)


class LogFollower:
    """Reads complete new lines from a growing log file (handles partial lines, truncation
    and the in-place rotation done by `logrotate`)."""

    def __init__(self, path: Path, from_start: bool = True) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        if not from_start and path.exists():
            self.offset = path.stat().st_size

    def read(self, max_bytes: int = 4 << 20) -> list[str]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:  # rotated in place, truncated or replaced
            from tui.adapters.logrotate import map_offset

            mapped = map_offset(self.path, self.offset)
            if mapped == 0:
                self.partial = b""
            self.offset = min(mapped, size)
        if size == self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(max_bytes)
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        if len(self.partial) > 1 << 20:  # a runaway line without newline: flush it
            lines.append(self.partial)
            self.partial = b""
        return [line.decode("utf-8", errors="replace") for line in lines]

    def at_eof(self) -> bool:
        try:
            return self.path.stat().st_size <= self.offset
        except OSError:
            return True
