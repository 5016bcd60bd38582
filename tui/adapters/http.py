"""HTTP to a running vLLM: /health, /metrics, /v1/models and the runtime LoRA endpoints.

Async (httpx), short timeouts, never raises at the caller: failures come back as values.
The API key is sent as a Bearer header (from the environment/config, never logged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
) -> Reply:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            resp = await client.request(method, url, headers=_headers(api_key), json=json_body)
    except Exception as exc:  # refused, timeout, DNS...: the server is just not there (yet)
        return Reply(False, None, f"{type(exc).__name__}: {exc}")
    data = None
    if "json" in resp.headers.get("content-type", ""):
        try:
            data = resp.json()
        except ValueError:
            data = None
    return Reply(resp.is_success, resp.status_code, resp.text, data)


async def health(base: str) -> bool:
    reply = await request("GET", base + "/health", timeout=2.0)
    return reply.ok


async def metrics(base: str) -> str | None:
    reply = await request("GET", base + "/metrics", timeout=3.0)
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
