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

DEFAULT_DEADLINE_S = 5.0

_armed: threading.Event | None = None
_lock = threading.Lock()


def stops_on_hangup(*, launched_here: bool, detached: bool = False) -> bool:
    """May a hang-up of this session stop its server? Only one it launched in the foreground."""
    return launched_here and not detached


def exit_deadline(seconds: float = DEFAULT_DEADLINE_S, code: int = 129) -> bool:
    """Make sure the process ends within `seconds` from now (once; later calls are no-ops).

    Returns True when this call armed the watchdog. 129 = 128 + SIGHUP, the shell's
    convention for a process ended by a hang-up. The watchdog is a daemon thread, so a
    normal, quick exit is never delayed by it.
    """
    global _armed
    with _lock:
        if _armed is not None:
            return False
        _armed = threading.Event()
        armed = _armed

    def watchdog() -> None:
        if armed.wait(seconds):
            return  # disarmed
        try:
            sys.stderr.write("vllm-tui: shutdown did not finish in time; exiting\n")
            sys.stderr.flush()
        except Exception:  # noqa: S110 - the terminal may be gone; exiting is what matters
            pass
        os._exit(code)

    threading.Thread(target=watchdog, name="vllm-tui-exit-deadline", daemon=True).start()
    return True


def disarm() -> None:
    """Cancel the watchdog (tests; or a shutdown that wants to wait longer)."""
    global _armed
    with _lock:
        if _armed is not None:
            _armed.set()
            _armed = None
