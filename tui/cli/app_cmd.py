"""`vllm-tui` with no subcommand: open the Textual app."""

from __future__ import annotations

from collections.abc import Sequence

from tui.cli.common import Parser, add_lang, default_lang
from tui.core.errors import UserError


def main(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui",
        usage="vllm-tui [MODEL] [--demo] [--vllm PATH] [--attach RUN] [--lang en|ja]",
        description="Plan, launch and watch vLLM servers.",
    )
    parser.add_argument(
        "model_arg", nargs="?", metavar="MODEL", help="open on this model (as `vllm serve MODEL`)"
    )
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
    parser.add_argument(
        "--watch",
        metavar="URL",
        action="append",
        default=[],
        help="watch a vLLM server started elsewhere (repeat for several)",
    )
    parser.add_argument(
        "--api-key-file", metavar="FILE", help="API key for --watch (default: VLLM_API_KEY)"
    )
    add_lang(parser)
    ns = parser.parse_args(list(argv))
    if ns.model_arg and ns.model and ns.model_arg != ns.model:
        raise UserError(f"two models given: {ns.model_arg} and --model {ns.model}")
    from tui.app import make_app

    watch_key = None
    if ns.watch:
        from tui.adapters.remote import normalize_url, read_api_key

        ns.watch = [normalize_url(u) for u in ns.watch]  # a bad URL: one line, exit 2
        watch_key = read_api_key(ns.api_key_file)
    app = make_app(
        demo=ns.demo,
        lang=ns.lang or default_lang(),
        vllm=ns.vllm,
        model=ns.model or ns.model_arg,
        attach=ns.attach,
        watch=tuple(ns.watch),
        watch_key=watch_key,
    )
    app.run()
    return int(getattr(app, "return_code", 0) or 0)
