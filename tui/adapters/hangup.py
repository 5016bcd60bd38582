"""What a hang-up (SIGHUP: the terminal or SSH connection went away) does to a UI session.

Two rules, shared by the app and the headless commands:

* Only a server this session started in the foreground may be stopped by a hang-up. A
  server launched with `--detach` (or from another session) and later attached is left
  running: attaching is only watching (`stops_on_hangup`).
* A hung-up UI process always exits. Textual's shutdown can block forever on a dead terminal
  (its LinuxDriver writer thread waits on a bounded queue that nobody drains any more,
  Textualize/textual#6690, #6692), so once a hang-up or an exit has started,
  `exit_deadline` arms a watchdog thread that ends the process with `os._exit` after a
  few seconds if the normal shutdown has not finished by then.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

DEFAULT_DEADLINE_S = 5.0
STOP_BUDGET_S = 60.0
"""Time allowed for stopping our own server on hang-up (runs.stop: 30 s + 10 s + 5 s)."""

_cond = threading.Condition()
_deadline: float | None = None
"""time.monotonic() by which the process must have ended (None: not armed)."""
_code = 129


def stops_on_hangup(*, launched_here: bool, detached: bool = False) -> bool:
    """May a hang-up of this session stop its server? Only one it launched in the foreground."""
    return launched_here and not detached


def exit_deadline(seconds: float = DEFAULT_DEADLINE_S, code: int = 129) -> bool:
    """Make sure the process ends within `seconds` from now.

    The first call starts the watchdog (a daemon thread, so a quick normal exit is never
    delayed); a later call can only bring the deadline closer. Returns True when this call
    started the watchdog. 129 = 128 + SIGHUP, the shell's convention for a hang-up.
    """
    global _deadline, _code
    import time

    with _cond:
        when = time.monotonic() + max(0.0, seconds)
        first = _deadline is None
        if first or when < (_deadline or when):
            _deadline, _code = when, code
            _cond.notify_all()
    if first:
        threading.Thread(target=_watchdog, name="vllm-tui-exit-deadline", daemon=True).start()
    return first


def _watchdog() -> None:
    import time

    with _cond:
        while True:
            if _deadline is None:
                return  # disarmed
            left = _deadline - time.monotonic()
            if left <= 0:
                break
            _cond.wait(left)
        code = _code
    try:
        sys.stderr.write("vllm-tui: shutdown did not finish in time; exiting\n")
        sys.stderr.flush()
    except Exception:  # noqa: S110 - the terminal may be gone; exiting is what matters
        pass
    os._exit(code)


def disarm() -> None:
    """Cancel the watchdog (tests; or a shutdown that wants to wait longer)."""
    global _deadline
    with _cond:
        _deadline = None
        _cond.notify_all()


def hang_up(
    run: Any,
    *,
    launched_here: bool,
    stop: Callable[[Any], object],
    deadline: float = DEFAULT_DEADLINE_S,
) -> bool:
    """Everything a UI does on SIGHUP before it asks its framework to exit.

    Arms the exit deadline first (covering the stop, when there is one), then stops `run`
    with `stop(run)` only if this session launched it in the foreground and it is alive.
    Returns True when the server was stopped. Never raises: a hang-up must end the process.
    """
    stopping = run is not None and stops_on_hangup(launched_here=launched_here)
    exit_deadline(deadline + (STOP_BUDGET_S if stopping else 0.0))
    stopped = False
    if stopping:
        try:
            if run.alive():
                stop(run)
                stopped = True
        except Exception:  # noqa: BLE001, S110 - whatever happens, the process still exits
            pass
    exit_deadline(deadline)  # the stop is over: only the UI's own shutdown is left
    return stopped
