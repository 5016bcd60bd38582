"""The process that owns one vLLM server: `python -m tui.adapters.runner_shim RUN_DIR`.

Started in a new session (so a dropped SSH session's SIGHUP never reaches it), it runs the
command from RUN_DIR/run.json with the log file as stdout/stderr (the child writes its own
log, so nothing is lost if every UI goes away), forwards SIGINT to vLLM for a graceful stop,
records the exit code, and finally kills whatever is left in its process group (EngineCore
and worker processes hold GPU memory). It never imports vllm.

It also keeps the port reservation (an inherited, locked file descriptor: see
tui.adapters.ports) for as long as it lives, and keeps server.log bounded
(tui.adapters.logrotate). `stop_requested` in exit.json is true when the shim received
SIGINT/SIGTERM or vllm-tui left the `stop-requested` mark; an exit nobody asked for (a
crash, a `kill -9` of vLLM) is recorded as such and the run counts as failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _write(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError as exc:  # a full or read-only disk must not leave vLLM unsupervised
        print(f"[vllm-tui] cannot write {path.name}: {exc}", flush=True)


def _group_members(pgid: int) -> list[int]:
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return out


def reap_group(pgid: int, grace: float = 5.0) -> None:
    """SIGTERM then SIGKILL every other process of the group."""
    members = _group_members(pgid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in members:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            members = _group_members(pgid)
            if not members:
                return
            time.sleep(0.1)


def main(run_dir: str) -> int:
    d = Path(run_dir)
    info = json.loads((d / "run.json").read_text())
    argv = info["argv"]
    child: subprocess.Popen[bytes] | None = None
    stop_requested = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        if child is not None and child.poll() is None:
            try:
                os.kill(child.pid, signal.SIGINT if signum == signal.SIGINT else signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    started = time.time()
    import threading

    from tui.adapters.logrotate import rotate_forever

    threading.Thread(target=rotate_forever, args=(d / "server.log",), daemon=True).start()
    env = dict(os.environ)
    added = env.pop("VLLM_TUI_SHIM_ADDED_PATH", None)
    if added:
        parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != added]
        if parts:
            env["PYTHONPATH"] = os.pathsep.join(parts)
        else:
            env.pop("PYTHONPATH", None)
    try:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, cwd=info.get("cwd") or None, env=env
        )
    except OSError as exc:
        print(f"vllm-tui: cannot start {argv[0]}: {exc}", flush=True)
        _write(d / "exit.json", {"code": 127, "ended": time.time(), "error": str(exc)})
        return 127
    _write(d / "vllm.json", {"pid": child.pid, "started": started})
    code = child.wait()
    ended = time.time()
    print(f"[vllm-tui] vLLM exited with code {code} after {ended - started:.0f}s", flush=True)
    stop_requested = stop_requested or (d / "stop-requested").exists()
    _write(d / "exit.json", {"code": code, "ended": ended, "stop_requested": stop_requested})
    reap_group(os.getpgid(0))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
