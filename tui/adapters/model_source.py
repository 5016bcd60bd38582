"""Resolve a model reference into ModelFacts without downloading weights.

Order: a local directory (config.json + safetensors index or headers), the local Hugging Face
cache (offline), the hub (config.json and safetensors metadata only; HF_TOKEN from the
environment), then the built-in architecture catalog. Every failure becomes a UserError or a
note; nothing here raises a traceback at the user.
"""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.core.arch_catalog import builtin_facts
from tui.core.errors import UserError
from tui.core.model_facts import ModelFacts, facts_from_config, safetensors_summary
from tui.core.schema import (
    MAX_JSON_BYTES,
    SchemaError,
    check_safetensors_header,
    check_safetensors_index,
    loads_json,
)

MAX_HEADER = 100 * 1024 * 1024  # safetensors caps its JSON header at 100 MB


def read_safetensors_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a .safetensors file: reads 8 + N bytes, never the tensors."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise UserError(f"{path}: not a safetensors file (too short)")
        (size,) = struct.unpack("<Q", raw)
        if size <= 0 or size > MAX_HEADER:
            raise UserError(f"{path}: not a safetensors file (bad header length)")
        data = fh.read(size)
    if len(data) != size:
        raise UserError(f"{path}: not a safetensors file (header cut short)")
    try:
        header = loads_json(data, f"{path} safetensors header")
    except SchemaError:
        raise UserError(f"{path}: unreadable safetensors header") from None
    return check_safetensors_header(header, str(path))


def _load_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    return loads_json(raw, str(path))


def facts_from_dir(
    directory: str | os.PathLike[str], name: str | None = None, source: str = "local directory"
) -> ModelFacts:
    """ModelFacts from a model folder: config.json plus the weight files' sizes."""
    d = Path(directory).expanduser()
    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise UserError(f"{d}: no config.json (is this a Hugging Face model folder?)")
    facts = facts_from_config(_load_json(cfg_path), name=name or str(d), source=source)
    total = checkpoint_bytes(d)
    return replace(facts, checkpoint_bytes=total) if total else facts


def checkpoint_bytes(d: Path) -> int | None:
    """Weight bytes from model.safetensors.index.json, else from the safetensors headers."""
    index = d / "model.safetensors.index.json"
    if index.is_file():
        data = check_safetensors_index(_load_json(index), str(index))
        size = (data.get("metadata") or {}).get("total_size")
        if isinstance(size, int | float) and size > 0:
            return int(size)
    files = sorted(d.glob("*.safetensors"))
    if not files:
        return None
    total, _ = safetensors_summary([read_safetensors_header(f) for f in files])
    return total or None


def hf_cache_root() -> Path:
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "huggingface"
    )
    return Path(home) / "hub"


def list_cached_models(limit: int = 500) -> list[str]:
    """Repo ids of models in the local HF cache that have a config.json (for the model picker)."""
    root = hf_cache_root()
    out: list[str] = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return out
    for entry in entries:
        if not entry.name.startswith("models--") or not entry.is_dir():
            continue
        if any((snap / "config.json").is_file() for snap in (entry / "snapshots").glob("*")):
            out.append(entry.name[len("models--") :].replace("--", "/"))
        if len(out) >= limit:
            break
    return out


def _cached_dir(repo_id: str) -> Path | None:
    """The snapshot folder of `repo_id` in the local HF cache, if its config.json is there."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        # huggingface_hub reads HF_HUB_CACHE once at import; ask for today's value.
        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=str(hf_cache_root()))
    except Exception:  # bad repo id format and the like: not in the cache
        return None
    if isinstance(found, str) and os.path.isfile(found):
        return Path(found).parent
    return None


def _from_hub(repo_id: str, timeout: float) -> ModelFacts:
    """config.json and safetensors metadata from the hub (small HTTP reads only)."""
    from huggingface_hub import get_safetensors_metadata, hf_hub_download

    token = os.environ.get("HF_TOKEN") or None
    try:
        path = hf_hub_download(repo_id, "config.json", token=token, etag_timeout=timeout)
    except Exception as exc:  # network, 401/403 gated, 404
        raise UserError(f"{repo_id}: not found locally and the hub said: {_short(exc)}") from None
    facts = facts_from_config(_load_json(Path(path)), name=repo_id, source="hub")
    try:
        meta = get_safetensors_metadata(repo_id, token=token)
        size = sum(
            sum(
                int(info.data_offsets[1]) - int(info.data_offsets[0])
                for info in file_meta.tensors.values()
            )
            for file_meta in meta.files_metadata.values()
        )
        if size:
            facts = replace(facts, checkpoint_bytes=size)
    except Exception:  # metadata is a bonus: config.json alone is enough
        pass
    return facts


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def hub_allowed() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") in ("0", "", "false", "False") and os.environ.get(
        "VLLM_TUI_OFFLINE", "0"
    ) in ("0", "", "false")


_REACHABLE: dict[str, bool] = {}


def hub_reachable(timeout: float = 2.0) -> bool:
    """A quick TCP check before asking huggingface_hub, which retries with backoff (~25 s)
    when there is no network: an offline GPU box must not wait for that."""
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if endpoint in _REACHABLE:
        return _REACHABLE[endpoint]
    url = urlparse(endpoint)
    host, port = (
        url.hostname or "huggingface.co",
        url.port or (443 if url.scheme == "https" else 80),
    )
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            ok = True
    except OSError:
        ok = False
    _REACHABLE[endpoint] = ok
    return ok


def resolve_model(ref: str, *, hub_timeout: float = 5.0) -> ModelFacts:
    """Facts for `ref` (local path, HF id), trying each source in order."""
    if not isinstance(ref, str) or not ref.strip():
        raise UserError("a model (HF id or local path) is required")
    ref = ref.strip()
    path = Path(ref).expanduser()
    if path.is_dir():
        return facts_from_dir(path)
    if path.suffix == ".gguf" and path.is_file():
        raise UserError(
            f"{ref}: GGUF files carry no config.json; plan with the original HF id and --quantization gguf"
        )
    if ref.startswith(("/", "./", "../", "~")):
        raise UserError(f"{ref}: no such directory")
    cached = _cached_dir(ref)
    if cached is not None:
        return facts_from_dir(cached, name=ref, source="Hugging Face cache")
    hub_error: str | None = None
    if hub_allowed():
        if not hub_reachable():
            hub_error = f"{ref}: not found locally and the Hugging Face hub is unreachable"
        else:
            try:
                return _from_hub(ref, hub_timeout)
            except UserError as exc:
                hub_error = exc.message
    builtin = builtin_facts(ref)
    if builtin is not None:
        return builtin.with_notes(
            f"architecture from the built-in catalog ({hub_error or 'offline'})"
        )
    raise UserError(
        hub_error
        or f"{ref}: not a local folder, not in the Hugging Face cache, and not in the built-in catalog"
    )
