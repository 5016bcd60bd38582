"""Runs on disk, read side: the `Run` record (one run directory and its run.json), the live
process table used to verify that a run's processes are its own, listing and lookup of runs
(`vllm-tui ps`, `stop`, `attach`) and pruning of old finished runs.

`tui.adapters.runs` creates, starts and stops runs and re-exports everything here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.adapters.identity import is_ours, valid_pid, valid_time
from tui.adapters.settings import runs_dir
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
        """The shim's start in seconds since boot. A run.json written before this was recorded
        (it had an epoch time, which the kernel's moving boot time makes unreliable) has none:
        its shim then proves itself by its token alone."""
        return valid_time(self.info.get("shim_started_boot"))

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
