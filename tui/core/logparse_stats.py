"""The periodic stats line in vLLM's log (throughput, queues, KV cache usage, prefix cache
hits), read field by field: a field the line does not hold stays None.

Pure. tui.core.logparse re-exports `parse_throughput` (and `_from_parts`, which tests use).
"""

from __future__ import annotations

import math
import re

from tui.core.logparse_events import Throughput
from tui.core.logparse_memory import _f

_TP_NUMBER = re.compile(r"[\d,]+(?:\.\d+)?")
_TP_QUEUES = {
    "Running": "running",
    "Waiting": "waiting",
    "Pending": "waiting",
    "Swapped": "swapped",
}
_KV_DEVICES = frozenset(("GPU", "CPU", "XPU", "TPU", "HPU", "NPU"))
_ENGINE = re.compile(r"Engine (\d+):")


def parse_throughput(msg: str, line_no: int = 0) -> Throughput:
    """Field-by-field: a field missing from the line stays None (never invented).

    The stats line is `name: value unit` parts joined by ", "; each part is read with string
    operations (this runs for every stats line of a long log). The first occurrence of a field
    wins: V0 printed both GPU and CPU (swap) usage, and the accelerator's own cache comes first.
    """
    values: dict[str, object] = {}
    m = _TP_LAYOUT.search(msg)
    if m:
        _from_layout(m, values)
    else:
        _from_parts(msg, values)
    if "Engine " in msg:
        m = _ENGINE.search(msg)
        if m:
            values["engine"] = m.group(1)
    return Throughput(line_no, **values)  # type: ignore[arg-type]


#: The layouts vLLM has printed (V0 and V1) in one pattern that starts with a literal, so the
#: regex engine finds its start fast; any other layout goes through `_from_parts`.
_TP_LAYOUT = re.compile(
    r"Avg prompt throughput: ([\d,]+(?:\.\d+)?) tokens/s, "
    r"Avg generation throughput: ([\d,]+(?:\.\d+)?) tokens/s, "
    r"Running: (\d+) reqs?, (?:Swapped: (\d+) reqs?, )?(?:Waiting|Pending): (\d+) reqs?"
    r"(?:, (GPU|CPU|XPU|TPU|HPU|NPU) KV cache usage: ([\d,]+(?:\.\d+)?)%)?"
    r"(?:, (?:CPU|GPU) KV cache usage: [\d,]+(?:\.\d+)?%)?"
    r"(?:, Prefix cache hit rate: (?:GPU: )?([\d,]+(?:\.\d+)?)%)?\.?$"
)


def _from_layout(m: re.Match[str], values: dict[str, object]) -> None:
    prompt, gen, running, swapped, waiting, device, usage, hit = m.groups()
    # Straight-line on purpose: this runs once per stats line of a long log.
    number = _bounded(prompt)
    if number is not None:
        values["prompt_tps"] = number
    number = _bounded(gen)
    if number is not None:
        values["gen_tps"] = number
    if len(running) < 16:
        values["running"] = int(running)
    if swapped is not None and len(swapped) < 16:
        values["swapped"] = int(swapped)
    if len(waiting) < 16:
        values["waiting"] = int(waiting)
    if usage is not None:
        number = _bounded(usage)
        if number is not None:
            values["kv_cache_usage_pct"] = number
            values["kv_device"] = device
    if hit is not None:
        number = _bounded(hit)
        if number is not None:
            values["prefix_cache_hit_pct"] = number


def _bounded(text: str) -> float | None:
    r"""A `[\d,]+(\.\d+)?` number below 1e15 (a hostile line cannot inject a huge one)."""
    if len(text) > 24:
        return None
    number = float(text.replace(",", "") if "," in text else text)
    return number if number < 1e15 else None


def _from_parts(msg: str, values: dict[str, object]) -> None:
    for part in msg.split(", "):
        head, sep, tail = part.rpartition(": ")
        if not sep:
            continue
        field = _tp_field(head.removesuffix(": GPU"), tail)
        if field is None:
            continue
        name, number, device = field
        if name in values or not (math.isfinite(number) and number < 1e15):
            continue
        values[name] = int(number) if name in _TP_QUEUES.values() else number
        if device:
            values["kv_device"] = device


def _tp_field(head: str, tail: str) -> tuple[str, float, str | None] | None:
    """(field, number, KV device) of one `name: value unit` part, or None."""
    text, _, unit = tail.partition(" ")
    text = text.rstrip(".")
    pct = text.endswith("%")
    if pct:
        text = text[:-1]
    if not _TP_NUMBER.fullmatch(text):
        return None
    last = head[head.rfind(" ") + 1 :]
    if last == "throughput" and unit.startswith("tokens/s"):
        if head.endswith("Avg prompt throughput"):
            return "prompt_tps", _f(text), None
        if head.endswith("Avg generation throughput"):
            return "gen_tps", _f(text), None
        return None
    if last in _TP_QUEUES and unit.startswith("req") and text.isdigit():
        return _TP_QUEUES[last], float(text), None
    if pct and head.endswith(" KV cache usage"):
        device = head[-len(" KV cache usage") - 3 : -len(" KV cache usage")]
        return ("kv_cache_usage_pct", _f(text), device) if device in _KV_DEVICES else None
    if pct and head.endswith("Prefix cache hit rate"):
        return "prefix_cache_hit_pct", _f(text), None
    return None
