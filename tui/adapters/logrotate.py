"""Keep a server log bounded: past `max_bytes`, keep its head (the startup report: version,
config, memory profile) and its tail (the latest events and the final error), and replace
the middle with one marker line.

The rotation happens in place (same inode): vLLM writes the log through an O_APPEND
descriptor, so its next write lands at the new end. The marker says at which byte of the
old file the kept tail began, so a follower that had read up to byte O of the old file
continues at the same line in the new one (`map_offset`) instead of re-reading or skipping.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MARKER = b"[vllm-tui] log rotated: "
_MARKER_RE = re.compile(rb"\[vllm-tui\] log rotated: (\d+) bytes dropped, tail from byte (\d+)\n")

MAX_BYTES = 64 << 20
HEAD_BYTES = 1 << 20
TAIL_BYTES = 8 << 20


def rotate(
    path: Path, max_bytes: int = MAX_BYTES, head: int = HEAD_BYTES, tail: int = TAIL_BYTES
) -> bool:
    """Shrink `path` to head + marker + tail when it is larger than `max_bytes`."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    if size <= max_bytes or size <= head + tail:
        return False
    with open(path, "r+b") as fh:
        first = fh.read(head)
        existing = _MARKER_RE.search(first + fh.read(4096))
        if existing is not None:  # rotated before: the head ends right before the old marker
            head_end = existing.start()
        else:
            cut = first.rfind(b"\n")
            head_end = cut + 1 if cut >= 0 else len(first)
        fh.seek(size - tail)
        kept = fh.read()
        nl = kept.find(b"\n")
        kept = kept[nl + 1 :] if nl >= 0 else kept
        tail_from = size - len(kept)
        marker = MARKER + b"%d bytes dropped, tail from byte %d\n" % (
            tail_from - head_end,
            tail_from,
        )
        fh.seek(head_end)
        fh.write(marker)
        fh.write(kept)
        fh.truncate()
        # Lines the server wrote after our read of the tail and before truncate() are lost:
        # a window of microseconds, against an unbounded log.
    return True


def map_offset(path: Path, old_offset: int) -> int:
    """Where byte `old_offset` of the log before its last rotation is now (0 if unknown)."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(HEAD_BYTES + 4096)
    except OSError:
        return 0
    m = _MARKER_RE.search(start)
    if m is None:
        return 0  # truncated or replaced: read it again from the start
    tail_from = int(m.group(2))
    if old_offset >= tail_from:
        return m.end() + (old_offset - tail_from)
    if old_offset <= m.start():
        return old_offset
    return m.end()


def rotate_forever(path: Path, every: float = 5.0) -> None:
    """The shim's loop (in a daemon thread): limits from VLLM_TUI_LOG_MAX_BYTES."""
    import time

    try:
        limit = int(os.environ.get("VLLM_TUI_LOG_MAX_BYTES", MAX_BYTES))
    except ValueError:
        limit = MAX_BYTES
    limit = max(limit, 1 << 20)
    head = min(HEAD_BYTES, limit // 8)
    tail = min(TAIL_BYTES, limit // 2)
    while True:
        time.sleep(every)
        try:
            rotate(path, limit, head, tail)
        except OSError:
            pass
