"""`vllm-tui parse-log FILE`: phases, memory report, throughput and diagnosed errors of a log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui.cli.common import Parser, print_json
from tui.core.errors import UserError


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(prog="vllm-tui parse-log", description="Explain a vLLM server log.")
    parser.add_argument("file", help="a vLLM log file ('-' for stdin)")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args(list(argv))
    from tui.core.logparse import bounded_lines
    from tui.core.reducer import replay

    if ns.file == "-":
        import sys

        state = replay(bounded_lines(sys.stdin))
    else:
        try:
            with open(ns.file, encoding="utf-8", errors="replace") as fh:
                state = replay(bounded_lines(fh))
        except OSError as exc:
            raise UserError(f"cannot read {ns.file}: {exc.strerror or exc}") from None
    data: dict[str, Any] = dict(state.as_json())
    if ns.json:
        print_json(data)
        return 0
    print(f"vLLM {data['vllm_version'] or '?'}: {data['state']} after {state.lines:,} lines")
    phases: list[dict[str, Any]] = data["phases"]
    memory: dict[str, Any] = data["memory"]
    print("phases: " + " -> ".join(p["name"] for p in phases))
    mem = {k: v for k, v in memory.items() if v is not None}
    if mem:
        print("memory: " + ", ".join(f"{k}={v:g}" for k, v in mem.items()))
    tp: list[Any] = data["throughput"]
    if tp:
        print(f"throughput: {len(tp)} samples, last {tp[-1]}")
    root: dict[str, Any] | None = data["root_cause"]
    if root:
        print(f"error: {root['message']}")
        if root.get("suggestion"):
            print(f"  try: {root['suggestion']}")
        print(f"  why: {root['explanation']}")
    return 0
