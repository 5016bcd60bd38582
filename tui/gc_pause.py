"""The cyclic garbage collector paused for the app's start-up, and resumed with its first frame.

Start-up builds tens of thousands of long-lived objects (Textual's modules and stylesheet, the
flag catalog, the widgets) and frees almost none, so the collections it triggers scan them for
nothing, some 15 ms of the first frame. The app's command pauses the collector before it
imports Textual and the first frame resumes it. What the imports built is frozen once, by
`make_app` (tui.startup); what the first screen built is collected as usual from then on.
Nothing else pauses it: importing `tui` leaves it alone.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collect again (only if `pause` stopped collection)."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def paused() -> bool:
    return _paused
