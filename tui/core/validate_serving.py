"""Validation rules about serving: the network (open host, busy port), flags the target vLLM
does not accept, expert parallel on a dense model, the KV bytes override, and the multi-node
checks (tui/core/multinode_checks.py).

The rules register with tui.core.validate's @rule when this module is imported (through
tui.core.validate_model, at the end of validate.py); import validate, not this module.
"""

from __future__ import annotations

from tui.core.catalog import CATALOG, t
from tui.core.config import ServeConfig
from tui.core.validate import Context, Finding, _set, rule


@rule
def _network(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    out = []
    host = cfg.get("host")
    if host in (None, "", "0.0.0.0", "::") and not cfg.get("api_key"):
        out.append(
            Finding(
                "warning",
                "open-without-key",
                ("--host", "--api-key"),
                t(
                    "The server listens on every interface without --api-key: anyone who can reach the port can use the model.",
                    "--api-key なしで全インターフェースで待ち受けます。ポートに到達できる人は誰でもモデルを使えます。",
                ),
                _set(t("Listen on 127.0.0.1 only", "127.0.0.1 のみで待ち受ける"), host="127.0.0.1"),
            )
        )
    if ctx.port_in_use:
        port = int(cfg.get("port"))
        out.append(
            Finding(
                "error",
                "port-in-use",
                ("--port",),
                t(
                    f"Port {port} is already in use; vLLM would fail with 'address already in use'.",
                    f"ポート {port} は使用中です。vLLM は 'address already in use' で失敗します。",
                ),
                _set(
                    t(
                        f"Use --port {ctx.extra.get('free_port', port + 1)}",
                        f"--port {ctx.extra.get('free_port', port + 1)} を使う",
                    ),
                    port=ctx.extra.get("free_port", port + 1),
                ),
            )
        )
    return out


@rule
def _version_support(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """Flags the target vLLM does not accept: known removals, and (when the installed vLLM
    was introspected) anything its parser lacks, with the nearest flag it does know."""
    from tui.core.vllm_options import suggest, unknown_flags

    out = []
    reported: set[str] = set()
    version = ctx.vllm_version or "the newest vLLM"
    for s in CATALOG:
        if not cfg.is_set(s.dest) or s.flag is None:
            continue
        note = s.removed_in(ctx.vllm_version)
        unknown = ctx.known_options is not None and s.flag not in ctx.known_options
        if note is None and not unknown:
            continue
        reported.add(s.flag)
        hint = note.text if note else None
        nearest = suggest(s.flag, ctx.known_options or ())
        out.append(
            Finding(
                "error",
                "flag-unknown-to-vllm",
                (s.flag,),
                t(
                    f"{s.flag} is not accepted by vLLM {version}"
                    + (f": {hint.en.rstrip('.')}" if hint else "")
                    + (f" (try {nearest})" if nearest and not hint else "."),
                    f"{s.flag} は vLLM {version} では使えません"
                    + (f": {hint.ja}" if hint else "")
                    + (f"（代わりに {nearest}）" if nearest and not hint else "。"),
                ),
                _set(t(f"Remove {s.flag}", f"{s.flag} を外す"), **{s.dest: None}),
            )
        )
    if ctx.known_options is not None:
        for u in unknown_flags(cfg, ctx.known_options):
            if u.source != "passthrough" or u.flag in reported:
                continue
            reported.add(u.flag)
            out.append(
                Finding(
                    "error",
                    "flag-unknown-to-vllm",
                    (u.flag,),
                    t(
                        f"{u.flag} is not accepted by the installed vLLM {version}"
                        + (f"; did you mean {u.suggestion}?" if u.suggestion else "."),
                        f"{u.flag} はインストールされている vLLM {version} では使えません"
                        + (f"。{u.suggestion} のことですか？" if u.suggestion else "。"),
                    ),
                )
            )
    return out


@rule
def _expert_parallel(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    if not cfg.get("enable_expert_parallel") or not ctx.facts or ctx.facts.is_moe:
        return []
    return [
        Finding(
            "warning",
            "ep-dense",
            ("--enable-expert-parallel",),
            t(
                "--enable-expert-parallel has no effect on a dense (non-MoE) model.",
                "--enable-expert-parallel は MoE ではない（密な）モデルでは効果がありません。",
            ),
            _set(t("Remove it", "外す"), enable_expert_parallel=False),
        )
    ]


@rule
def _kv_bytes_override(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    if not cfg.is_set("kv_cache_memory_bytes") or not cfg.is_set("gpu_memory_utilization"):
        return []
    return [
        Finding(
            "info",
            "kv-bytes-overrides",
            ("--kv-cache-memory-bytes", "--gpu-memory-utilization"),
            t(
                "--kv-cache-memory-bytes fixes the KV cache size; --gpu-memory-utilization is then ignored for it.",
                "--kv-cache-memory-bytes は KV キャッシュのサイズを固定するため、--gpu-memory-utilization は使われません。",
            ),
        )
    ]


@rule
def _local_paths(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """A local model, tokenizer, chat template or LoRA path that does not exist here (looked
    up by the caller: tui.adapters.local_paths)."""
    from tui.core.local_paths import FLAG_OF

    missing = ctx.extra.get("missing_paths") or ()
    return [
        Finding(
            "error",
            "path-missing",
            (FLAG_OF.get(dest, dest),),
            t(
                f"{FLAG_OF.get(dest, dest)} {path}: no such file or folder on this machine; vLLM would fail to load it.",
                f"{FLAG_OF.get(dest, dest)} {path}: このマシンにそのファイル・フォルダがありません。vLLM は読み込みに失敗します。",
            ),
        )
        for dest, path in missing
    ]


@rule
def _multinode(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """Several nodes and the Ray backend: tui/core/multinode_checks.py."""
    from tui.core.multinode_checks import multinode_findings

    return multinode_findings(cfg, ctx)
