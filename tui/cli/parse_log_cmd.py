"""`vllm-tui parse-log FILE`: phases, memory report, throughput and diagnosed errors of a log."""

from __future__ import annotations

from collections.abc import Sequence

from tui.cli.common import Parser, print_json
from tui.core.errors import UserError


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(prog="vllm-tui parse-log", description="Explain a vLLM server log.")
    parser.add_argument("file", help="a vLLM log file ('-' for stdin)")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args(list(argv))
    from tui.core.logparse import bounded_lines
    from tui.core.runstate import replay

    if ns.file == "-":
        import sys

        state = replay(bounded_lines(sys.stdin))
    else:
        try:
            with open(ns.file, encoding="utf-8", errors="replace") as fh:
                state = replay(bounded_lines(fh))
        except OSError as exc:
            raise UserError(f"cannot read {ns.file}: {exc.strerror or exc}") from None
    data = state.as_json()
    if ns.json:
        print_json(data)
        return 0
    print(f"vLLM {data['vllm_version'] or '?'}: {data['state']} after {state.lines:,} lines")
    print("phases: " + " -> ".join(p["name"] for p in data["phases"]))  # type: ignore[index]
    mem = {k: v for k, v in data["memory"].items() if v is not None}  # type: ignore[union-attr]
    if mem:
        print("memory: " + ", ".join(f"{k}={v:g}" for k, v in mem.items()))
    tp = data["throughput"]
    if tp:
        last = tp[-1]  # type: ignore[index]
        print(f"throughput: {len(tp)} samples, last {last}")  # type: ignore[arg-type]
    root = data["root_cause"]
    if root:
        print(f"error: {root['message']}")  # type: ignore[index]
        if root.get("suggestion"):  # type: ignore[union-attr]
            print(f"  try: {root['suggestion']}")  # type: ignore[index]
        print(f"  why: {root['explanation']}")  # type: ignore[index]
    return 0
