"""HTTP to a running vLLM: /health, /metrics, /v1/models and the runtime LoRA endpoints.

Async (httpx), short timeouts, never raises at the caller: failures come back as values.
The API key is sent as a Bearer header (from the environment/config, never logged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_BODY = 8 * 1024 * 1024
"""Cap on any response body; vLLM's /metrics is ~100 KB even with many LoRAs and buckets."""
MAX_METRICS = 4 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    ok: bool
    status: int | None
    text: str
    data: Any = None


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


async def request(
    method: str,
    url: str,
    *,
    api_key: str | None = None,
    json_body: Any = None,
    timeout: float = 3.0,
    max_bytes: int = MAX_BODY,
) -> Reply:
    import httpx

    try:
        async with (
            httpx.AsyncClient(timeout=timeout, trust_env=False) as client,
            client.stream(method, url, headers=_headers(api_key), json=json_body) as resp,
        ):
            body, cut = await _read_capped(resp, max_bytes)
    except Exception as exc:  # refused, timeout, DNS...: the server is just not there (yet)
        return Reply(False, None, f"{type(exc).__name__}: {exc}")
    text = body.decode(resp.encoding or "utf-8", errors="replace")
    if cut:
        # A body past the cap is not something we parse (a hostile or broken server).
        return Reply(False, resp.status_code, f"response larger than {max_bytes:,} bytes")
    data = None
    if "json" in resp.headers.get("content-type", ""):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
    return Reply(resp.is_success, resp.status_code, text, data)


async def _read_capped(resp: Any, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the body; True when there was more (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


async def health(base: str) -> bool:
    reply = await request("GET", base + "/health", timeout=2.0)
    return reply.ok


async def metrics(base: str) -> str | None:
    reply = await request("GET", base + "/metrics", timeout=3.0, max_bytes=MAX_METRICS)
    return reply.text if reply.ok else None


async def models(base: str, api_key: str | None) -> list[dict[str, Any]]:
    reply = await request("GET", base + "/v1/models", api_key=api_key)
    if reply.ok and isinstance(reply.data, dict):
        return [m for m in reply.data.get("data", []) if isinstance(m, dict)]
    return []


async def load_lora(base: str, name: str, path: str, api_key: str | None) -> Reply:
    return await request(
        "POST",
        base + "/v1/load_lora_adapter",
        api_key=api_key,
        json_body={"lora_name": name, "lora_path": path},
        timeout=120.0,
    )


async def unload_lora(base: str, name: str, api_key: str | None) -> Reply:
    return await request(
        "POST",
        base + "/v1/unload_lora_adapter",
        api_key=api_key,
        json_body={"lora_name": name},
        timeout=30.0,
    )


async def completion(
    base: str, model: str, prompt: str, api_key: str | None, max_tokens: int = 16
) -> Reply:
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.7}
    return await request(
        "POST", base + "/v1/completions", api_key=api_key, json_body=body, timeout=120.0
    )
