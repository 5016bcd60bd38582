"""`vllm-tui flags`: the flag catalog with help in English or Japanese."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from tui.cli.common import Parser, add_lang, default_lang, print_json
from tui.core.catalog import GROUPS, FlagSpec, ordered


def spec_json(s: FlagSpec, lang: str | None = None) -> dict[str, Any]:
    langs = ("en", "ja") if lang is None else (lang,)
    return {
        "flag": s.flag,
        "dest": s.dest,
        "env": s.env,
        "kind": s.kind,
        "group": s.group,
        "default": s.default,
        "tool_default": None if s.tool_default is ... else s.tool_default,
        "choices": list(s.choices) or None,
        "open_choices": s.open_choices,
        "minimum": s.minimum,
        "maximum": s.maximum,
        "aliases": list(s.aliases),
        "negatable": s.negatable,
        "secret": s.secret,
        "seed": s.seed,
        "summary": {lang_: s.summary.get(lang_) for lang_ in langs},
        "help": {lang_: s.details.get(lang_) for lang_ in langs},
        "memory": {lang_: s.memory.get(lang_) for lang_ in langs} if s.memory else None,
        "versions": [
            {
                "since": v.since,
                "until": v.until,
                "removed": v.removed,
                "note": {lang_: v.text.get(lang_) for lang_ in langs},
            }
            for v in s.versions
        ],
        "example": s.example,
        "source": "curated",
    }


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(prog="vllm-tui flags", description="List the flags vllm-tui knows, with help.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--all", action="store_true", help="also every flag of the installed vLLM (introspected)"
    )
    parser.add_argument(
        "--vllm", metavar="PATH", help="the vLLM to introspect (executable or python)"
    )
    parser.add_argument(
        "--search", metavar="TEXT", help="only flags whose name or help contains TEXT"
    )
    add_lang(parser)
    ns = parser.parse_args(list(argv))
    lang = ns.lang or default_lang()
    if ns.all:
        from tui.cli.flags_all import run_all

        return run_all(ns, lang)
    specs = ordered()
    if ns.search:
        needle = ns.search.lower()
        specs = [
            s
            for s in specs
            if needle
            in " ".join([s.flag or s.env or "", s.summary.get(lang), s.details.get(lang)]).lower()
        ]
    if ns.json:
        print_json(
            {
                "lang": lang,
                "count": len(specs),
                "flags": [spec_json(s, None if ns.lang is None else lang) for s in specs],
            }
        )
        return 0
    titles = {key: (en if lang == "en" else ja) for key, en, ja in GROUPS}
    current = None
    for s in specs:
        heading = (
            ("Your guide's flags" if lang == "en" else "ガイドのフラグ")
            if s.seed
            else titles.get(s.group, s.group)
        )
        if heading != current:
            print(
                f"\n{heading}\n{'=' * len(heading)}"
                if lang == "en"
                else f"\n{heading}\n{'=' * 2 * len(heading)}"
            )
            current = heading
        name = s.flag or f"{s.env}=True"
        default = "" if s.is_env_only else f"  (default: {_fmt(s.effective_default)})"
        print(f"{name}{default}")
        print(textwrap.indent(textwrap.fill(s.summary.get(lang), 96), "    "))
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "unset"
    return str(value)
