"""`vllm-tui` with no subcommand: open the Textual app."""

from __future__ import annotations

from collections.abc import Sequence

from tui.cli.common import Parser, add_lang, default_lang


def main(argv: Sequence[str]) -> int:
    parser = Parser(prog="vllm-tui", description="Plan, launch and watch vLLM servers.")
    parser.add_argument(
        "--demo", action="store_true", help="replay a recorded vLLM run with a fake GPU"
    )
    parser.add_argument(
        "--vllm",
        metavar="PATH",
        help="the vLLM to launch (a `vllm` executable or a python that has vllm)",
    )
    parser.add_argument("--model", metavar="MODEL", help="model to start with")
    parser.add_argument("--attach", metavar="RUN", help="open an existing run")
    add_lang(parser)
    ns = parser.parse_args(list(argv))
    from tui.app import make_app

    app = make_app(
        demo=ns.demo, lang=ns.lang or default_lang(), vllm=ns.vllm, model=ns.model, attach=ns.attach
    )
    app.run()
    return int(getattr(app, "return_code", 0) or 0)
