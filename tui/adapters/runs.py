"""Runs on disk: one directory per launch holding the exact command (no secrets), the names
of the environment variables given (not their values), pid files and the full raw log.

    runs/<id>/run.json     what was launched (argv, env names, url, masked config)
    runs/<id>/server.log   everything the server printed (written by the server itself)
    runs/<id>/vllm.json    the vLLM pid (written by the runner shim)
    runs/<id>/exit.json    exit code and time (written by the runner shim)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.adapters.settings import atomic_write, runs_dir
from tui.core.errors import UserError


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
        value = self.info.get("pgid")
        return int(value) if isinstance(value, int) else None

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

    def vllm_pid(self) -> int | None:
        try:
            return int(json.loads((self.dir / "vllm.json").read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def alive(self) -> bool:
        return bool(self.pgid and group_pids(self.pgid))


def _slug(text: str) -> str:
    base = text.rstrip("/").rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9.]+", "-", base).strip("-")[:40] or "model"


def new_run(
    model: str,
    argv: Sequence[str],
    env_names: Sequence[str],
    url: str,
    extra: Mapping[str, Any] | None = None,
) -> Run:
    root = runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{_slug(model)}"
    d = root / run_id
    n = 1
    while d.exists():
        n += 1
        d = root / f"{run_id}-{n}"
    d.mkdir(mode=0o700)
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
    atomic_write(d / "run.json", json.dumps(info, indent=2))
    return Run(d.name, d, info)


def start(run: Run, env: Mapping[str, str]) -> Run:
    """Start the runner shim in a new session; it owns the server from now on."""
    log = open(run.log_path, "ab", buffering=0)  # noqa: SIM115 - handed to the child
    os.chmod(run.log_path, 0o600)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.adapters.runner_shim", str(run.dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()
    info = dict(run.info) | {"pgid": proc.pid, "shim_pid": proc.pid}
    atomic_write(run.dir / "run.json", json.dumps(info, indent=2))
    _CHILDREN[proc.pid] = proc
    return Run(run.id, run.dir, info)


# Popen objects of shims we started, so they are reaped (no zombies) while we live.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def reap_children() -> None:
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            _CHILDREN.pop(pid, None)


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    reap_children()
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return out


def stop(
    run: Run, *, grace_int: float = 30.0, grace_term: float = 10.0, grace_kill: float = 5.0
) -> list[int]:
    """SIGINT (graceful) -> SIGTERM -> SIGKILL to the whole group; returns pids left (should be [])."""
    pgid = run.pgid
    if not pgid:
        return []
    steps: list[tuple[Any, float]] = [
        ("int", grace_int),
        (signal.SIGTERM, grace_term),
        (signal.SIGKILL, grace_kill),
    ]
    for sig, grace in steps:
        if not group_pids(pgid):
            return []
        try:
            if sig == "int":
                os.kill(pgid, signal.SIGINT)  # the shim forwards it to vLLM for a graceful stop
            else:
                os.killpg(pgid, sig)
        except ProcessLookupError:
            return []
        except PermissionError as exc:
            raise UserError(f"cannot stop run {run.id}: {exc}") from None
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not group_pids(pgid):
                return []
            time.sleep(0.1)
    return group_pids(pgid)


def list_runs() -> list[Run]:
    root = runs_dir()
    runs = []
    if not root.is_dir():
        return runs
    for d in sorted(root.iterdir()):
        if not d.is_dir():
            continue
        try:
            info = json.loads((d / "run.json").read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict):
            runs.append(Run(d.name, d, info))
    return runs


def find_run(ref: str | None) -> Run:
    """A run by id or unique prefix; None = the newest run that is alive."""
    runs = list_runs()
    if not runs:
        raise UserError("no runs yet (start one with `vllm-tui run MODEL` or from the app)")
    if not ref:
        alive = [r for r in runs if r.alive()]
        if not alive:
            raise UserError("no running server; give a run id (see `vllm-tui ps`)")
        return alive[-1]
    matches = [r for r in runs if r.id == ref] or [r for r in runs if r.id.startswith(ref)]
    if not matches:
        raise UserError(f"no run {ref!r} (see `vllm-tui ps`)")
    if len(matches) > 1:
        raise UserError(f"{ref!r} matches {len(matches)} runs; give more of the id")
    return matches[0]


class LogFollower:
    """Reads complete new lines from a growing log file (handles partial lines, truncation)."""

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
        if size < self.offset:  # truncated or replaced
            self.offset, self.partial = 0, b""
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
