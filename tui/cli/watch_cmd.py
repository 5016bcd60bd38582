"""`vllm-tui watch URL [URL...]`: monitor vLLM servers we did not start, from their HTTP API.

Opens the app's watch table (one URL: that server's monitor); `--headless` prints one line
per sample per server instead (`--json`: the same keys as `run --headless --json`, plus url).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from typing import Any

from tui.cli.common import Parser, add_api_key_file, add_lang, default_lang, refuse_typed_key
from tui.core.errors import UserError


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui watch",
        description=(
            "Watch vLLM servers that were started elsewhere (docker, Kubernetes, by hand) "
            "through /health, /version, /v1/models and /metrics. The API key comes from "
            "VLLM_API_KEY or --api-key-file, never from the command line."
        ),
    )
    parser.add_argument("urls", nargs="+", metavar="URL", help="http://host:port of a server")
    parser.add_argument("--headless", action="store_true", help="print samples, no UI")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between samples (default 2)"
    )
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds a request may take (default 3)"
    )
    parser.add_argument(
        "--samples", type=int, metavar="N", help="stop after N samples of each server"
    )
    add_api_key_file(parser)
    add_lang(parser)
    ns = parser.parse_args(list(argv))
    refuse_typed_key(ns)
    if ns.interval < 0.1 or ns.timeout <= 0:
        raise UserError("--interval must be at least 0.1 and --timeout above 0")
    if ns.samples is not None and ns.samples < 1:
        raise UserError("--samples must be at least 1")
    from tui.adapters.remote import RemoteServer, normalize_url, read_api_key

    urls = list(dict.fromkeys(normalize_url(u) for u in ns.urls))
    key = read_api_key(ns.api_key_file)
    if not ns.headless and not ns.json:
        if not sys.stdout.isatty():
            raise UserError("no terminal for the app: add --headless (and --json for scripts)")
        from tui.cli.app_cmd import main as app_main

        args = ["--lang", ns.lang or default_lang()]
        for u in urls:
            args += ["--watch", u]
        if ns.api_key_file:
            args += ["--api-key-file", ns.api_key_file]
        return app_main(args)
    servers = [RemoteServer(u, key, interval=ns.interval, timeout=ns.timeout) for u in urls]
    return asyncio.run(_headless(servers, json_out=ns.json, samples=ns.samples))


async def _headless(servers: Sequence[Any], *, json_out: bool, samples: int | None) -> int:
    from tui.adapters.remote import watch
    from tui.core.watchstate import NOT_AVAILABLE, as_json, transition

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    counts = {s.url: 0 for s in servers}
    last: dict[str, Any] = {}
    told: set[str] = set()
    async for sample in watch(servers, stop):
        previous = last.get(sample.url)
        last[sample.url] = sample
        counts[sample.url] += 1
        if sample.ok and sample.url not in told:
            told.add(sample.url)
            _emit_server(sample, json_out, NOT_AVAILABLE)
        change = transition(previous, sample)
        if change:  # for people, also beside --json: gone, back, unauthorized...
            print(change, file=sys.stderr, flush=True)
        _write(json.dumps(as_json(sample), default=str) if json_out else text_line(sample))
        if samples is not None and all(c >= samples for c in counts.values()):
            stop.set()
    return 0 if last and all(s.ok for s in last.values()) else 1


def _emit_server(sample: Any, json_out: bool, not_available: dict[str, str]) -> None:
    f = sample.facts
    if json_out:
        _write(
            json.dumps(
                {
                    "type": "server",
                    "url": sample.url,
                    "model": f.model,
                    "served_models": list(f.served_models),
                    "max_model_len": f.max_model_len,
                    "vllm_version": f.vllm_version,
                    "not_available": not_available,
                }
            )
        )
    else:
        _write(
            f"{sample.url}: vLLM {f.vllm_version or '?'} serving {f.model or '?'}"
            f" (max_model_len {f.max_model_len or '?'}); memory report: not available"
            " from the API (only in the server's log)"
        )


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def text_line(sample: Any) -> str:
    """`URL  ready  gen 123.4 tok/s  run 2 wait 0  KV 12.3%  TTFT p50 45 ms`."""
    if not sample.ok:
        return f"{sample.url}  {sample.state}  {sample.message} (retry in {sample.retry_in_s:g}s)"
    m = sample.metrics
    parts = [sample.url, "ready", sample.facts.model or "?"]
    if m is not None:
        parts.append(_num("gen", m.gen_tps, " tok/s"))
        parts.append(_num("prompt", m.prompt_tps, " tok/s"))
        parts.append(f"run {_fmt(m.running)} wait {_fmt(m.waiting)}")
        parts.append(_num("KV", m.kv_cache_usage_pct, "%"))
        if m.ttft_p50_s is not None:
            parts.append(f"TTFT p50 {m.ttft_p50_s * 1000:.0f} ms")
    return "  ".join(parts)


def _num(label: str, value: float | None, unit: str) -> str:
    return f"{label} {'-' if value is None else f'{value:.1f}'}{unit if value is not None else ''}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
