"""`vllm-tui flags --all`: the curated catalog merged with every option of the installed vLLM."""

from __future__ import annotations

import argparse
import sys
import textwrap

from tui.cli.common import print_json
from tui.core.errors import UserError


def run_all(ns: argparse.Namespace, lang: str) -> int:
    from tui.adapters.introspect import dump_options
    from tui.cli.common import installed_vllm
    from tui.core.vllm_options import merge

    install = installed_vllm(ns.vllm)
    if install is None:
        raise UserError(
            "no vLLM installed here: only the curated catalog is available (drop --all, or pass --vllm PATH)"
        )
    if not ns.json:
        print(
            f"reading the options of vLLM {install.version} ({install.python}) ...", file=sys.stderr
        )
    options = dump_options(install)
    merged = merge(options, lang)
    if ns.search:
        needle = ns.search.lower()
        merged = [m for m in merged if needle in m.flag.lower() or needle in m.help.lower()]
    if ns.json:
        print_json(
            {
                "vllm_version": install.version,
                "vllm_python": install.python,
                "count": len(merged),
                "vllm_option_count": len(options),
                "flags": [m.as_json() for m in merged],
            }
        )
        return 0
    group = None
    for m in sorted(merged, key=lambda m: (m.group or "", m.flag)):
        if m.group != group:
            group = m.group
            print(f"\n{group}\n{'-' * len(group or '')}")
        help_text = m.help_ja if lang == "ja" and m.help_ja else m.help
        mark = {"curated+vllm": "*", "curated": "!", "vllm": " "}[m.source]
        print(f"{mark} {' / '.join(m.names)}")
        if help_text:
            print(textwrap.indent(textwrap.shorten(help_text, 300), "      "))
    print("\n* curated help (vllm-tui)   ! not accepted by this vLLM")
    return 0
