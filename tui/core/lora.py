"""LoRA hot-swap, the pure part: which adapters a server serves, and what its answers mean.

vLLM (with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True and --enable-lora) loads adapters through
POST /v1/load_lora_adapter and unloads them through /v1/unload_lora_adapter; /v1/models
lists each adapter as a model whose `parent` is the base model. The HTTP calls live in
tui.adapters.lora; this module turns replies into one clear sentence in both languages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.catalog import Text, t

Adapters = tuple[tuple[str, str], ...]
"""(name, path) of each adapter the server serves."""

DEFAULT_MAX_LORA_RANK = 16
DEFAULT_MAX_LORAS = 1


@dataclass(frozen=True)
class LoraResult:
    ok: bool
    message: Text
    adapters: Adapters = ()


def adapters_of(models: Iterable[Mapping[str, Any]]) -> Adapters:
    """The adapters in a /v1/models answer (entries with a `parent`)."""
    return tuple(
        (str(m.get("id", "?")), str(m.get("root") or "")) for m in models if m.get("parent")
    )


def launched_adapters(modules: Sequence[str] | str | None) -> Adapters:
    """--lora-modules as given at launch: `name=path` or JSON `{"name":..,"path":..}`."""
    if not modules:
        return ()
    items = [modules] if isinstance(modules, str) else list(modules)
    out: list[tuple[str, str]] = []
    for item in items:
        text = str(item).strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("name"):
                out.append((str(data["name"]), str(data.get("path") or "")))
        elif "=" in text:
            name, _, path = text.partition("=")
            out.append((name.strip(), path.strip()))
    return tuple(out)


def rank_problem(rank: int | None, max_rank: int | None) -> Text | None:
    """An adapter whose rank the server cannot hold (checked before asking it)."""
    limit = max_rank or DEFAULT_MAX_LORA_RANK
    if rank is None or rank <= limit:
        return None
    return t(
        f"the adapter's rank is {rank}, above --max-lora-rank {limit}: relaunch with "
        f"--max-lora-rank {rank} or more",
        f"アダプターのランク {rank} が --max-lora-rank {limit} を超えています: "
        f"--max-lora-rank {rank} 以上で再起動してください",
    )


def missing_path(path: str) -> Text:
    return t(
        f"no adapter at {path}: the directory needs adapter_config.json and the weights",
        f"{path} にアダプターがありません: adapter_config.json と重みのあるディレクトリが必要です",
    )


def explain_failure(action: str, name: str, path: str, status: int | None, body: str) -> Text:
    """One sentence for a refused load/unload (vLLM's own words kept at the end)."""
    detail = _detail(body)
    low = detail.lower()
    if status is None:
        return t(f"the server did not answer: {detail}", f"サーバーが応答しません: {detail}")
    if status in (404, 405) and low in (
        "detail: not found",
        "not found",
        "detail: method not allowed",
        "",
    ):
        return t(
            "this server does not allow runtime LoRA updates: launch it with "
            "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True and --enable-lora",
            "このサーバーは実行中の LoRA 更新を許可していません: "
            "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True と --enable-lora で起動してください",
        )
    if status in (401, 403):
        return t(
            "the server wants an API key: set VLLM_API_KEY in the environment",
            "サーバーが API キーを求めています: 環境変数 VLLM_API_KEY を設定してください",
        )
    if "max_lora_rank" in low or ("rank" in low and "greater" in low):
        return t(
            f"the adapter's rank is above the server's --max-lora-rank ({detail})",
            f"アダプターのランクがサーバーの --max-lora-rank を超えています（{detail}）",
        )
    if action == "load" and ("not exist" in low or "cannot be found" in low or "no such" in low
                             or "notfound" in low.replace(" ", "") or "not found" in low):  # fmt: skip
        return t(
            f"the server cannot find an adapter at {path} ({detail})",
            f"サーバーが {path} にアダプターを見つけられません（{detail}）",
        )
    if action == "load" and "already" in low:
        return t(
            f"an adapter named {name} is already loaded: unload it first ({detail})",
            f"{name} という名前のアダプターは読み込み済みです: 先にアンロードしてください（{detail}）",
        )
    if action == "unload" and ("not" in low or status == 404):
        return t(
            f"no adapter named {name} is loaded ({detail})",
            f"{name} という名前のアダプターは読み込まれていません（{detail}）",
        )
    return t(
        f"{action} failed ({status}): {detail}", f"{action} に失敗しました（{status}）: {detail}"
    )


def eviction_note(adapters: Adapters, max_loras: int | None) -> Text | None:
    """More adapters than --max-loras: vLLM keeps them all listed but swaps them (LRU)."""
    limit = max_loras or DEFAULT_MAX_LORAS
    if len(adapters) <= limit:
        return None
    return t(
        f"{len(adapters)} adapters for --max-loras {limit}: vLLM keeps at most {limit} in memory "
        "and evicts the least recently used; a request to an evicted one loads it again "
        "(slower first answer)",
        f"--max-loras {limit} に対してアダプターが {len(adapters)} 個: vLLM はメモリに最大 "
        f"{limit} 個を置き、最も使われていないものを追い出します。追い出されたものへの"
        "リクエストは再読み込みになります（最初の応答が遅くなります）",
    )


def loaded_message(action: str, name: str, adapters: Adapters, note: Text | None) -> Text:
    base = (
        t(f"loaded {name}", f"{name} を読み込みました")
        if action == "load"
        else t(f"unloaded {name}", f"{name} をアンロードしました")
        if action == "unload"
        else t(f"{len(adapters)} adapter(s)", f"アダプター {len(adapters)} 個")
    )
    if note is None:
        return base
    return t(f"{base.en}. {note.en}", f"{base.ja}。{note.ja}")


def _detail(body: str) -> str:
    """vLLM's error text from a JSON error body (or the body itself, shortened)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)[:300]
        if "detail" in data:
            return f"detail: {data['detail']}"[:300]
        return str(err)[:300]
    return str(data)[:300]
