"""`vllm-tui lora list|load NAME PATH|unload NAME [RUN | --url URL]`: LoRA hot-swap from a
script, against a run of ours (by id; default the newest alive) or any server by URL.

The API key comes from VLLM_API_KEY or --api-key-file, never from the command line. The
server must allow runtime updates (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, --enable-lora).
Exit codes: 0 done, 1 the server refused (one line saying why), 2 bad input.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from tui.cli.common import Parser, add_api_key_file, add_lang, default_lang, refuse_typed_key
from tui.core.errors import UserError

USAGE = (
    "vllm-tui lora list [RUN | --url URL]\n"
    "       vllm-tui lora load NAME PATH [RUN | --url URL]\n"
    "       vllm-tui lora unload NAME [RUN | --url URL]"
)


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui lora",
        usage=USAGE,
        description="List, load and unload LoRA adapters on a running vLLM server.",
    )
    parser.add_argument("action", choices=("list", "load", "unload"))
    parser.add_argument("args", nargs="*", metavar="NAME PATH RUN")
    parser.add_argument("--url", metavar="URL", help="a server we did not start (http://host:port)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_api_key_file(parser)
    add_lang(parser)
    ns = parser.parse_args(list(argv))
    refuse_typed_key(ns)
    want = {"list": 0, "load": 2, "unload": 1}[ns.action]
    if len(ns.args) < want or len(ns.args) > want + 1:
        raise UserError(
            f"usage: {USAGE.splitlines()[('list', 'load', 'unload').index(ns.action)].strip()}"
        )
    name = ns.args[0] if want >= 1 else ""
    path = ns.args[1] if want == 2 else ""
    run_ref = ns.args[want] if len(ns.args) > want else None
    if run_ref and ns.url:
        raise UserError("give a RUN or --url, not both")
    url, limits, local = _target(run_ref, ns.url)
    from tui.adapters.remote import read_api_key

    key = read_api_key(ns.api_key_file)
    if ns.action == "load" and local and path:
        from pathlib import Path

        path = str(Path(path).expanduser().resolve())
    from tui.adapters import http
    from tui.adapters.lora import lora_call

    result = asyncio.run(
        lora_call(http, url, ns.action, name, path, api_key=key, local=local, **limits)
    )
    lang = ns.lang or default_lang()
    if ns.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "message": result.message.get(lang),
                    "adapters": [{"name": n, "path": p} for n, p in result.adapters],
                }
            )
        )
    else:
        if ns.action == "list" or result.ok:
            for adapter, where in result.adapters:
                print(f"{adapter}\t{where}")
        print(result.message.get(lang), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _target(run_ref: str | None, url: str | None) -> tuple[str, dict[str, Any], bool]:
    """(server URL, --max-loras/--max-lora-rank when known, adapter paths are local)."""
    if url:
        from tui.adapters.remote import normalize_url

        host = normalize_url(url)
        local = any(h in host for h in ("://127.", "://localhost", "://[::1]"))
        return host, {}, local
    from tui.adapters.runs import find_run

    run = find_run(run_ref)
    if not run.alive():
        raise UserError(f"run {run.id} is not running (see `vllm-tui ps`)")
    config = run.info.get("config") or {}
    limits = {
        "max_loras": config.get("max_loras") if isinstance(config, dict) else None,
        "max_lora_rank": config.get("max_lora_rank") if isinstance(config, dict) else None,
    }
    return run.url, limits, True
