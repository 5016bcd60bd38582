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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.adapters.identity import TOKEN_ENV, is_ours, valid_pid, valid_time
from tui.adapters.settings import atomic_write, runs_dir
from tui.core.errors import UserError

STOP_MARKER = "stop-requested"

ProcessTable = dict[int, list[int]]
"""Process group id -> live member pids, from one scan of /proc."""


@dataclass(frozen=True)
class Run:
    id: str
    dir: Path
    info: Mapping[str, Any]

    @property
    def log_path(self) -> Path:
        return self.dir / "server.log"

    @property
    def pgid(self) -> int | None:
        """The run's process group (ids that are not plain integers > 1 are ignored)."""
        return valid_pid(self.info.get("pgid"))

    @property
    def shim_pid(self) -> int | None:
        return valid_pid(self.info.get("shim_pid"))

    @property
    def token(self) -> str | None:
        value = self.info.get("token")
        return value if isinstance(value, str) and value else None

    @property
    def shim_started(self) -> float | None:
        return valid_time(self.info.get("shim_started"))

    @property
    def port(self) -> int | None:
        port = self.info.get("port")
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    @property
    def url(self) -> str:
        return str(self.info.get("url") or "")

    @property
    def model(self) -> str:
        return str(self.info.get("model") or "?")

    def exit_info(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.dir / "exit.json").read_text())
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    def stop_requested(self) -> bool:
        """vllm-tui asked this run to stop (any process: the app, `run`, `stop`)."""
        return (self.dir / STOP_MARKER).exists()

    def vllm_pid(self) -> int | None:
        try:
            return valid_pid(json.loads((self.dir / "vllm.json").read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def owned_pids(self, table: ProcessTable | None = None) -> list[int]:
        """Live processes of this run's group that prove they belong to it."""
        pgid = self.pgid
        if pgid is None or self.token is None:
            return []
        members = (table if table is not None else process_table()).get(pgid, [])
        shim, started = self.shim_pid, self.shim_started
        return [
            pid for pid in members if is_ours(pid, self.token, started if pid == shim else None)
        ]

    def alive(self, table: ProcessTable | None = None) -> bool:
        """Some process of this run is alive (verified); cheap when the shim is."""
        shim = self.shim_pid
        if table is None and shim is not None and is_ours(shim, self.token, self.shim_started):
            return True
        return bool(self.owned_pids(table))


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
    from tui.adapters.identity import start_time

    info = dict(run.info) | {
        "pgid": proc.pid,
        "shim_pid": proc.pid,
        "shim_started": start_time(proc.pid),
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


# Popen objects of shims we started, so they are reaped (no zombies) while we live.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def reap_children() -> None:
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            _CHILDREN.pop(pid, None)


def process_table() -> ProcessTable:
    """Every live (non-zombie) process by process group, from one scan of /proc."""
    reap_children()
    table: ProcessTable = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] not in ("Z", "X"):
                table.setdefault(int(fields[2]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return table


def group_pids(pgid: int | None) -> list[int]:
    """Live (non-zombie) processes in a process group (unverified: see Run.owned_pids)."""
    if valid_pid(pgid) is None:
        return []
    return process_table().get(pgid or 0, [])


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
    one by one: a stale or forged pgid in run.json cannot make us signal someone else.
    """
    if not run.owned_pids():
        return []
    request_stop(run)
    steps: list[tuple[str, signal.Signals, float]] = [
        ("int", signal.SIGINT, grace_int),
        ("term", signal.SIGTERM, grace_term),
        ("kill", signal.SIGKILL, grace_kill),
    ]
    for step, sig, grace in steps:
        pids = run.owned_pids()
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
            if not run.owned_pids():
                return []
            time.sleep(0.1)
    return run.owned_pids()


def list_runs() -> list[Run]:
    """Every run with a readable run.json, oldest first (only run.json is read)."""
    root = runs_dir()
    out: list[Run] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        try:
            with open(os.path.join(entry.path, "run.json"), "rb") as fh:
                info = json.loads(fh.read())
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(info, dict):
            out.append(Run(entry.name, Path(entry.path), info))
    return out


def find_run(ref: str | None) -> Run:
    """A run by id or unique prefix; None = the newest run that is alive."""
    runs = list_runs()
    if not runs:
        raise UserError("no runs yet (start one with `vllm-tui run MODEL` or from the app)")
    if not ref:
        table = process_table()
        alive = [r for r in runs if r.alive(table)]
        if not alive:
            raise UserError("no running server; give a run id (see `vllm-tui ps`)")
        return alive[-1]
    matches = [r for r in runs if r.id == ref] or [r for r in runs if r.id.startswith(ref)]
    if not matches:
        raise UserError(f"no run {ref!r} (see `vllm-tui ps`)")
    if len(matches) > 1:
        raise UserError(f"{ref!r} matches {len(matches)} runs; give more of the id")
    return matches[0]


KEEP_RUNS = 50
KEEP_DAYS = 14.0


def prune_limits(keep: int | None = None, days: float | None = None) -> tuple[int, float]:
    """How many runs / days of runs to keep: the arguments, else VLLM_TUI_KEEP_RUNS and
    VLLM_TUI_KEEP_DAYS, else 50 runs / 14 days (a bad value in the environment is ignored)."""
    if keep is None:
        raw = os.environ.get("VLLM_TUI_KEEP_RUNS", "")
        keep = int(raw) if raw.isdigit() and len(raw) < 7 else KEEP_RUNS
    if days is None:
        try:
            days = float(os.environ.get("VLLM_TUI_KEEP_DAYS", KEEP_DAYS))
        except ValueError:
            days = KEEP_DAYS
        if not 0 <= days <= 36500:
            days = KEEP_DAYS
    return keep, days


def prune(keep: int = KEEP_RUNS, days: float = KEEP_DAYS, *, now: float | None = None) -> list[str]:
    """Delete finished runs that are neither among the newest `keep` nor younger than `days`.

    A run that is alive is never touched. Returns the ids removed.
    """
    now = time.time() if now is None else now
    runs = list_runs()
    table = process_table()
    removed = []
    for run in runs[: max(0, len(runs) - max(0, keep))]:
        created = valid_time(run.info.get("created")) or 0.0
        if now - created < days * 86400 or run.alive(table):
            continue
        shutil.rmtree(run.dir, ignore_errors=True)
        if not run.dir.exists():
            removed.append(run.id)
    return removed


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
