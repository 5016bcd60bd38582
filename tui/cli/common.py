"""Shared CLI plumbing: serve-flag splitting, config assembly, output, language."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from tui.core.config import ServeConfig
from tui.core.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse that never abbreviates (so `--gpu` cannot swallow `--gpu-memory-utilization`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def default_lang() -> str:
    for var in ("VLLM_TUI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang", choices=("en", "ja"), default=None, help="help language (default: from LANG)"
    )


def add_api_key_file(parser: argparse.ArgumentParser) -> None:
    """--api-key-file, plus a hidden --api-key that `refuse_typed_key` turns away."""
    parser.add_argument(
        "--api-key-file", metavar="FILE", help="read the API key from FILE (first line)"
    )
    parser.add_argument("--api-key", help=argparse.SUPPRESS, default=None)


def refuse_typed_key(ns: argparse.Namespace) -> None:
    if ns.api_key is not None:
        raise UserError(
            "an API key on the command line leaks into `ps` and shell history: "
            "set VLLM_API_KEY or use --api-key-file FILE"
        )


def add_config_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-command", metavar="STR", help="import a pasted `vllm serve ...` command line"
    )
    parser.add_argument(
        "--from-yaml", metavar="FILE", help="import a vLLM YAML config (`vllm serve --config`)"
    )


def build_config(ns: argparse.Namespace, serve_args: Sequence[str]) -> ServeConfig:
    """ServeConfig from --from-command/--from-yaml and the serve flags given directly.

    Flags given directly win over imported ones, as on vLLM's own command line.
    """
    from tui.core.importer import load_yaml_file, parse_args, parse_command

    base: ServeConfig | None = None
    if getattr(ns, "from_command", None):
        base = parse_command(ns.from_command)
    if getattr(ns, "from_yaml", None):
        imported = load_yaml_file(ns.from_yaml)
        base = imported if base is None else base.update(imported.as_dict())
    if not serve_args:
        if base is None:
            raise UserError(
                "give a model: `MODEL [vllm serve flags]`, --from-command or --from-yaml"
            )
        return base
    direct = parse_args(
        list(serve_args)
        if not _starts_with_flag(serve_args) or base is None
        else [base.model, *serve_args]
    )
    if base is None:
        return direct
    merged = base.update(direct.as_dict()).with_model(direct.model)
    if direct.passthrough:
        merged = merged.with_passthrough([*base.passthrough, *direct.passthrough])
    return merged


def _starts_with_flag(args: Sequence[str]) -> bool:
    return bool(args) and args[0].startswith("-")


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


_CONTROL = {c: "?" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def clean(text: object) -> str:
    """Text safe to print: control characters (escape sequences, CR, BEL) become `?`."""
    return str(text).translate(_CONTROL)


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] | None = None) -> str:
    """A plain aligned text table (no dependencies, readable in any terminal or log);
    control characters in cells are neutralised (cells may come from files on disk)."""
    all_rows = [list(map(clean, headers))] if headers else []
    all_rows += [list(map(clean, r)) for r in rows]
    if not all_rows:
        return ""
    widths = [
        max(_width(r[i]) for r in all_rows if i < len(r))
        for i in range(max(len(r) for r in all_rows))
    ]
    lines = []
    for n, row in enumerate(all_rows):
        cells = [c + " " * (widths[i] - _width(c)) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if headers and n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two cells."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def installed_vllm(explicit: str | None = None):  # type: ignore[no-untyped-def]
    """The vLLM this machine would launch (--vllm, the saved setting, next to us, PATH), or None.

    Explicit paths that are not a vLLM raise UserError; anything else wrong means "none".
    """
    from tui.adapters.settings import load_settings
    from tui.adapters.vllm_env import resolve_vllm

    if explicit:
        return resolve_vllm(explicit, None)
    try:
        return resolve_vllm(None, load_settings().vllm_path)
    except UserError:
        return None
