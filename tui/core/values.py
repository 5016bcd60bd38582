"""Turn raw flag values (command-line strings, YAML scalars, form text) into typed values.

Only the type is checked here ("abc" is not an int). Ranges and cross-flag rules are findings
of `tui.core.validate`, so a form can hold an out-of-range value and explain it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from tui.core.catalog import FlagSpec
from tui.core.errors import UserError

_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n"}
_HUMAN = re.compile(r"(\d+(?:\.\d+)?)([kKmMgGtT])")
_DECIMAL = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_BINARY = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_human_int(text: str) -> int:
    """vLLM's rule: lowercase suffix = decimal (1k = 1000), uppercase = binary (1K = 1024)."""
    text = text.strip().replace("_", "")
    m = _HUMAN.fullmatch(text)
    if m:
        number, suffix = m.groups()
        if suffix in _DECIMAL:
            return int(float(number) * _DECIMAL[suffix])
        if "." in number:
            raise ValueError(f"decimals are not allowed with binary suffix {suffix}")
        return int(number) * _BINARY[suffix]
    return int(text)


def coerce(spec: FlagSpec, raw: Any) -> Any:
    """Typed value for `spec` from `raw`, or UserError naming the flag and what was wrong."""
    name = spec.flag or spec.env or spec.dest
    try:
        return _coerce(spec, raw)
    except (ValueError, TypeError) as exc:
        want = {
            "bool": "true or false",
            "int": "a whole number",
            "float": "a number",
            "choice": "one of " + ", ".join(map(str, spec.choices)),
            "list": "one or more values",
            "json": "a JSON value",
        }.get(spec.kind, "a non-empty value")
        detail = str(exc) if str(exc) and "invalid literal" not in str(exc) else ""
        if detail and spec.kind == "list":
            raise UserError(f"{name}: {detail}") from None
        raise UserError(
            f"{name}: {raw!r} is not {want}" + (f": {detail}" if detail else "")
        ) from None


def _coerce(spec: FlagSpec, raw: Any) -> Any:
    if raw is None:
        return None
    # vLLM's optional types read an empty string or the word "None" as "not set".
    if (
        spec.default is None
        and isinstance(raw, str)
        and raw.strip() in ("", "None")
        and spec.kind != "bool"
    ):
        return None
    kind = spec.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("")
    if kind == "int":
        if isinstance(raw, bool):
            raise ValueError("")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float):
            if raw.is_integer():
                return int(raw)
            raise ValueError("")
        text = str(raw).strip()
        words = dict(spec.words)
        if text.lower() in words:
            return words[text.lower()]
        if spec.human_readable:
            return parse_human_int(text)
        return int(text)
    if kind == "float":
        if isinstance(raw, bool):
            raise ValueError("")
        number = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
        if not math.isfinite(number):
            raise ValueError("must be finite")
        return number
    if kind == "choice":
        if spec.choices and all(isinstance(c, int) for c in spec.choices):
            if isinstance(raw, bool):
                raise ValueError("")
            value: Any = int(str(raw).strip()) if not isinstance(raw, int) else raw
        else:
            value = str(raw).strip()
        if value == "":
            raise ValueError("")
        return value
    if kind == "list":
        items = [raw] if isinstance(raw, str | int | float) else list(raw)
        out = tuple(str(i) for i in items)
        if not out or any(not i for i in out):
            raise ValueError("")
        if spec.item_check is not None:
            for item in out:
                spec.item_check(item)
        return out
    if kind == "json":
        text = raw if isinstance(raw, str) else json.dumps(raw)
        json.loads(text)
        return text
    # str / path
    if isinstance(raw, bool | list | dict):
        raise ValueError("")
    text = str(raw)
    if not text.strip():
        raise ValueError("")
    return text


def is_number(text: str) -> bool:
    """'-1', '0.5', '1e3' are values, not options, on a command line."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_value(value: Any) -> str:
    """How a typed value is written on a command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)
