"""LoRA hot-swap against a running vLLM: list, load, unload (used by the panel and the CLI).

Checks what can be checked here first (a local adapter directory exists, its rank fits
--max-lora-rank), then asks the server, then lists /v1/models; every outcome is a
`LoraResult` with one sentence in both languages (tui.core.lora), never an exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui.core.lora import (
    LoraResult,
    adapters_of,
    eviction_note,
    explain_failure,
    loaded_message,
    missing_path,
    rank_problem,
)


def adapter_rank(path: str) -> int | None:
    """`r` from a local adapter's adapter_config.json (None when unknown)."""
    try:
        data = json.loads((Path(path).expanduser() / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return None
    rank = data.get("r") if isinstance(data, dict) else None
    return rank if isinstance(rank, int) and not isinstance(rank, bool) else None


def precheck(path: str, max_lora_rank: int | None) -> LoraResult | None:
    """A refusal we can give without the server (the adapter is on this machine)."""
    folder = Path(path).expanduser()
    if not path or not folder.exists():
        return LoraResult(False, missing_path(path))
    problem = rank_problem(adapter_rank(path), max_lora_rank)
    if problem is not None:
        return LoraResult(False, problem)
    return None


async def list_adapters(http: Any, url: str, api_key: str | None) -> tuple[bool, Any, Any]:
    """(ok, adapters, reply) from /v1/models."""
    request = getattr(http, "request", None)
    if request is None:  # the demo's pretend server
        return True, adapters_of(await http.models(url, api_key)), None
    reply = await request("GET", url + "/v1/models", api_key=api_key)
    if not reply.ok or not isinstance(reply.data, dict):
        return False, (), reply
    return True, adapters_of(m for m in reply.data.get("data", []) if isinstance(m, dict)), reply


async def lora_call(
    http: Any,
    url: str,
    action: str,
    name: str,
    path: str = "",
    *,
    api_key: str | None = None,
    max_loras: int | None = None,
    max_lora_rank: int | None = None,
    local: bool = True,
) -> LoraResult:
    """Do `action` ("list", "load", "unload") and list what the server serves afterwards."""
    reply = None
    if action == "load":
        if local:
            refused = precheck(path, max_lora_rank)
            if refused is not None:
                ok, adapters, _ = await list_adapters(http, url, api_key)
                return LoraResult(False, refused.message, adapters)
        reply = await http.load_lora(
            url, name, str(Path(path).expanduser()) if local else path, api_key
        )
    elif action == "unload":
        reply = await http.unload_lora(url, name, api_key)
    ok, adapters, listing = await list_adapters(http, url, api_key)
    if reply is not None and not reply.ok:
        return LoraResult(
            False, explain_failure(action, name, path, reply.status, reply.text), adapters
        )
    if not ok:
        status = getattr(listing, "status", None)
        text = getattr(listing, "text", "")
        return LoraResult(False, explain_failure("list", name, path, status, text), ())
    note = eviction_note(adapters, max_loras) if action != "unload" else None
    return LoraResult(True, loaded_message(action, name, adapters, note), adapters)
