"""Validation: rules over a config (plus model facts and GPUs when known) giving findings.

A finding says what is wrong in English and Japanese, which flags it concerns, and, when one
exists, a concrete fix (a change to the config) that the UI can apply with one key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tui.core.catalog import CATALOG, FlagSpec, Text, spec, t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.fix import Fix
from tui.core.gpu_catalog import GpuSpec
from tui.core.model_facts import ModelFacts

Level = Literal["error", "warning", "info"]
LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    flags: tuple[str, ...]
    message: Text
    fix: Fix | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "flags": list(self.flags),
            "message": {"en": self.message.en, "ja": self.message.ja},
            "fix": self.fix.as_json() if self.fix else None,
        }


@dataclass(frozen=True)
class Context:
    """What is known besides the config. Every field is optional."""

    facts: ModelFacts | None = None
    gpus: tuple[GpuSpec, ...] = ()
    """The GPUs vLLM will get (detected and chosen, or the planning GPU x count)."""
    num_gpus: int | None = None
    vllm_version: str | None = None
    port_in_use: bool | None = None
    known_options: frozenset[str] | None = None
    """Options the installed vLLM accepts (None = not introspected)."""
    extra: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[ServeConfig, Context], list[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def validate(cfg: ServeConfig, ctx: Context | None = None) -> list[Finding]:
    """All findings, errors first."""
    ctx = ctx or Context()
    out: list[Finding] = []
    for r in RULES:
        out += r(cfg, ctx)
    return sorted(out, key=lambda f: LEVEL_ORDER[f.level])


def _set(label: Text, **values: Any) -> Fix:
    return Fix(label, tuple(values.items()))


@rule
def _utilization(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    util = cfg.get("gpu_memory_utilization")
    if util is None or 0 < util <= 1:
        return []
    value = 0.9 if util > 1 else 0.5
    return [
        Finding(
            "error",
            "utilization-range",
            ("--gpu-memory-utilization",),
            t(
                f"--gpu-memory-utilization is a fraction of GPU memory in (0, 1]; {util:g} is outside it.",
                f"--gpu-memory-utilization は GPU メモリに対する (0, 1] の割合です。{util:g} は範囲外です。",
            ),
            _set(t(f"Set it to {value}", f"{value} に設定"), gpu_memory_utilization=value),
        )
    ]


@rule
def _ranges(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """Generic numeric bounds and closed choice lists from the catalog."""
    out = []
    for s in CATALOG:
        if s.dest == "gpu_memory_utilization" or not cfg.is_set(s.dest):
            continue
        value = cfg.get(s.dest)
        if s.kind in ("int", "float") and isinstance(value, int | float):
            if s.dest == "max_model_len" and value == -1:
                continue
            low_bad = s.minimum is not None and (
                value <= s.minimum if s.exclusive_minimum else value < s.minimum
            )
            high_bad = s.maximum is not None and value > s.maximum
            if low_bad or high_bad:
                bound = f">= {s.minimum:g}" if low_bad else f"<= {s.maximum:g}"
                fix_value = s.minimum if low_bad else s.maximum
                fix = (
                    _set(
                        t(f"Set {s.flag} to {fix_value:g}", f"{s.flag} を {fix_value:g} に設定"),
                        **{s.dest: fix_value},
                    )
                    if not s.exclusive_minimum
                    else None
                )
                out.append(
                    Finding(
                        "error",
                        "range",
                        (s.flag or s.dest,),
                        t(
                            f"{s.flag} must be {bound} (got {value:g}).",
                            f"{s.flag} は {bound} である必要があります（{value:g} が指定されています）。",
                        ),
                        fix,
                    )
                )
        if s.kind == "choice" and s.choices:
            out += _choice(s, value, None)
    return out


def _choice(s: FlagSpec, value: Any, installed: Sequence[str] | None) -> list[Finding]:
    """A value outside the choices: an error when the installed vLLM's own list (or the
    catalog's closed list) lacks it, or when an open list's value is clearly a typo ('fp'
    for 'fp8', '2fp8', a bare number); a plugin's method name passes."""
    choices: Sequence[Any] = installed if installed else s.choices
    if value in choices or str(value) in map(str, choices):
        return []
    nearest = _nearest_choice(choices, value)
    if not installed and s.open_choices:
        import difflib

        close = difflib.get_close_matches(str(value), list(map(str, choices)), n=1, cutoff=0.75)
        typo = bool(close) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", str(value))
        if not typo:
            return []
    allowed = ", ".join(map(str, choices))
    return [
        Finding(
            "error",
            "choice",
            (s.flag or s.dest,),
            t(
                f"{s.flag} {value} is not accepted by vLLM; allowed: {allowed}.",
                f"{s.flag} {value} は vLLM で使えません。使える値: {allowed}。",
            ),
            _set(t(f"Use {nearest}", f"{nearest} を使う"), **{s.dest: nearest})
            if nearest is not None
            else None,
        )
    ]


def port_findings(cfg: ServeConfig, free_port: int | None) -> list[Finding]:
    """The port-in-use error (with a free port as its fix) once the port was found busy."""
    ctx = Context(port_in_use=True, extra={"free_port": free_port} if free_port else {})
    return [f for f in _network(cfg, ctx) if f.code == "port-in-use"]


def choice_findings(cfg: ServeConfig, installed: Mapping[str, Sequence[str]]) -> list[Finding]:
    """Choice errors against the installed vLLM's own lists ({flag: choices})."""
    out: list[Finding] = []
    for s in CATALOG:
        if s.kind == "choice" and s.flag and cfg.is_set(s.dest) and s.flag in installed:
            out += _choice(s, cfg.get(s.dest), tuple(installed[s.flag]))
    return out


def _nearest_choice(choices: Sequence[Any], value: Any) -> Any:
    if all(isinstance(c, int) for c in choices) and isinstance(value, int):
        bigger = [c for c in choices if c >= value]
        return min(bigger) if bigger else max(choices)
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.5)
    if close:
        return close[0]
    inside = [str(c) for c in choices if str(value) and str(value) in str(c)]
    return min(inside, key=len) if inside else None


def valid_tp_sizes(facts: ModelFacts, limit: int | None) -> list[int]:
    """TP sizes vLLM accepts for this model: divide the attention heads (and KV heads rule)."""
    out = []
    for tp in range(1, (limit or facts.num_heads) + 1):
        if facts.num_heads % tp:
            continue
        kv = facts.num_kv_heads
        if not facts.is_mla and (kv % tp if kv >= tp else tp % kv):
            continue
        out.append(tp)
    return out


@rule
def _tensor_parallel(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    tp = cfg.get("tensor_parallel_size")
    if not ctx.facts or not isinstance(tp, int) or tp < 1:
        return []
    f = ctx.facts
    if tp in valid_tp_sizes(f, tp):
        return []
    gpus = ctx.num_gpus or len(ctx.gpus) or None
    valid = valid_tp_sizes(f, max(gpus or 8, tp, 8))
    fitting = [v for v in valid if gpus is None or v <= gpus] or [1]
    best = max(v for v in fitting if v <= tp) if any(v <= tp for v in fitting) else fitting[0]
    listed = ", ".join(map(str, valid))
    room = (
        f" ({', '.join(map(str, fitting))} fit your {gpus} GPU{'s' if gpus != 1 else ''})"
        if gpus
        else ""
    )
    room_ja = f"（{gpus} 枚の GPU で使えるのは {', '.join(map(str, fitting))}）" if gpus else ""
    return [
        Finding(
            "error",
            "tp-heads",
            ("--tensor-parallel-size",),
            t(
                f"TP {tp} does not divide the model's {f.num_heads} attention heads ({f.num_kv_heads} KV heads); vLLM will refuse to start. Valid TP sizes: {listed}{room}.",
                f"TP {tp} はこのモデルのアテンションヘッド数 {f.num_heads}（KV ヘッド {f.num_kv_heads}）を割り切れないため、vLLM は起動しません。使える TP: {listed}{room_ja}。",
            ),
            _set(
                t(f"Use --tensor-parallel-size {best}", f"--tensor-parallel-size {best} を使う"),
                tensor_parallel_size=best,
            ),
        )
    ]


@rule
def _gpu_count(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    gpus = ctx.num_gpus if ctx.num_gpus is not None else (len(ctx.gpus) or None)
    if gpus is None:
        return []
    tp, pp, dp = (
        int(cfg.get(k) or 1)
        for k in ("tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size")
    )
    need = world_size(cfg)
    if need <= gpus:
        return []
    fix = None
    if gpus >= 1 and pp * dp <= gpus:
        new_tp = gpus // (pp * dp)
        if ctx.facts:
            ok = [v for v in valid_tp_sizes(ctx.facts, new_tp)]
            new_tp = max(ok) if ok else 1
        fix = _set(
            t(f"Use --tensor-parallel-size {new_tp}", f"--tensor-parallel-size {new_tp} を使う"),
            tensor_parallel_size=new_tp,
        )
    return [
        Finding(
            "error",
            "gpu-count",
            ("--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size"),
            t(
                f"TP x PP x DP = {need} GPUs, but only {gpus} are available.",
                f"TP × PP × DP = {need} 枚の GPU が必要ですが、使えるのは {gpus} 枚です。",
            ),
            fix,
        )
    ]


@rule
def _lora(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    if cfg.get("enable_lora"):
        return []
    used = [spec(d).flag for d in ("max_loras", "max_lora_rank", "lora_modules") if cfg.is_set(d)]
    if cfg.get("allow_runtime_lora_updating"):
        used.append("VLLM_ALLOW_RUNTIME_LORA_UPDATING")
    if not used:
        return []
    names = ", ".join(str(u) for u in used)
    return [
        Finding(
            "warning",
            "lora-disabled",
            tuple(str(u) for u in used) + ("--enable-lora",),
            t(
                f"{names} has no effect without --enable-lora.",
                f"{names} は --enable-lora なしでは効果がありません。",
            ),
            _set(t("Turn on --enable-lora", "--enable-lora を有効にする"), enable_lora=True),
        )
    ]


@rule
def _dtype_and_fp8(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    if not ctx.gpus:
        return []
    gpu = min(ctx.gpus, key=lambda g: g.compute_capability)
    cc = ".".join(map(str, gpu.compute_capability))
    out = []
    dtype = cfg.get("dtype")
    model_bf16 = ctx.facts is not None and ctx.facts.torch_dtype == "bfloat16"
    if dtype == "bfloat16" and not gpu.bf16:
        out.append(
            Finding(
                "error",
                "bf16-unsupported",
                ("--dtype",),
                t(
                    f"{gpu.name} (compute capability {cc}) has no bfloat16; vLLM needs 8.0+. Use float16.",
                    f"{gpu.name}（Compute Capability {cc}）は bfloat16 に対応していません（8.0 以上が必要）。float16 を使ってください。",
                ),
                _set(t("Use --dtype half", "--dtype half を使う"), dtype="half"),
            )
        )
    elif dtype == "auto" and model_bf16 and not gpu.bf16:
        out.append(
            Finding(
                "info",
                "bf16-auto-half",
                ("--dtype",),
                t(
                    f"The checkpoint is bfloat16 but {gpu.name} lacks it: vLLM will run in float16 (set --dtype half to be explicit).",
                    f"チェックポイントは bfloat16 ですが {gpu.name} は非対応のため、vLLM は float16 で動きます（明示するなら --dtype half）。",
                ),
                _set(t("Use --dtype half", "--dtype half を使う"), dtype="half"),
            )
        )
    kv = str(cfg.get("kv_cache_dtype") or "auto")
    if kv.startswith("fp8") and gpu.fp8_kv != "yes":
        level: Level = "error" if gpu.fp8_kv == "no" else "warning"
        out.append(
            Finding(
                level,
                "fp8-kv-unsupported",
                ("--kv-cache-dtype",),
                t(
                    f"FP8 KV cache on {gpu.name} (compute capability {cc}): "
                    + (
                        "not supported."
                        if level == "error"
                        else "only some attention backends support it on this GPU."
                    ),
                    f"{gpu.name}（Compute Capability {cc}）での FP8 KV キャッシュ: "
                    + (
                        "非対応です。"
                        if level == "error"
                        else "この GPU では一部のアテンションバックエンドのみ対応しています。"
                    ),
                ),
                _set(
                    t("Use --kv-cache-dtype auto", "--kv-cache-dtype auto を使う"),
                    kv_cache_dtype="auto",
                ),
            )
        )
    if cfg.get("quantization") == "fp8" and not gpu.fp8 and gpu.compute_capability >= (8, 0):
        out.append(
            Finding(
                "info",
                "fp8-weight-only",
                ("--quantization",),
                t(
                    f"{gpu.name} has no FP8 tensor cores: --quantization fp8 runs as weight-only FP8 (Marlin); memory is halved, speed gains are smaller.",
                    f"{gpu.name} には FP8 テンソルコアがないため、--quantization fp8 は重みのみの FP8（Marlin）で動きます。メモリは半分になりますが、速度の向上は小さくなります。",
                ),
            )
        )
    elif cfg.get("quantization") == "fp8" and gpu.compute_capability < (8, 0):
        out.append(
            Finding(
                "error",
                "fp8-unsupported",
                ("--quantization",),
                t(
                    f"FP8 quantization needs compute capability 8.0+; {gpu.name} is {cc}.",
                    f"FP8 量子化には Compute Capability 8.0 以上が必要です。{gpu.name} は {cc} です。",
                ),
                _set(t("Remove --quantization", "--quantization を外す"), quantization=None),
            )
        )
    return out


@rule
def _max_model_len(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    mml = cfg.get("max_model_len")
    if not ctx.facts or not isinstance(mml, int) or mml <= 0:
        return []
    limit = ctx.facts.derived_max_model_len
    if mml <= limit:
        return []
    allowed = dict(cfg.env).get("VLLM_ALLOW_LONG_MAX_MODEL_LEN") in ("1", "true", "True")
    if allowed:
        return [
            Finding(
                "warning",
                "max-len-forced",
                ("--max-model-len",),
                t(
                    f"--max-model-len {mml:,} exceeds the model's {limit:,} positions; VLLM_ALLOW_LONG_MAX_MODEL_LEN lets it start, but outputs past {limit:,} tokens may be garbage.",
                    f"--max-model-len {mml:,} はモデルの位置数 {limit:,} を超えています。VLLM_ALLOW_LONG_MAX_MODEL_LEN で起動はできますが、{limit:,} トークンを超える出力は崩れる可能性があります。",
                ),
            )
        ]
    return [
        Finding(
            "error",
            "max-len-too-long",
            ("--max-model-len",),
            t(
                f"--max-model-len {mml:,} is larger than the model's maximum ({limit:,}); vLLM refuses to start.",
                f"--max-model-len {mml:,} はモデルの最大長（{limit:,}）より大きいため、vLLM は起動しません。",
            ),
            _set(
                t(f"Use --max-model-len {limit}", f"--max-model-len {limit} を使う"),
                max_model_len=limit,
            ),
        ),
        Finding(
            "info",
            "max-len-override",
            ("--max-model-len",),
            t(
                "To force it anyway set VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 (quality past the trained length is not guaranteed).",
                "どうしても使う場合は VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 を設定します（学習時の長さを超えた品質は保証されません）。",
            ),
            Fix(
                t("Set VLLM_ALLOW_LONG_MAX_MODEL_LEN=1", "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 を設定"),
                env=(("VLLM_ALLOW_LONG_MAX_MODEL_LEN", "1"),),
            ),
        ),
    ]


@rule
def _log_stats(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    if not cfg.get("disable_log_stats"):
        return []
    return [
        Finding(
            "warning",
            "log-stats-off",
            ("--disable-log-stats",),
            t(
                "--disable-log-stats: on vLLM 0.32 it stops the throughput log lines and removes every vllm: series from /metrics, so the throughput panel and any Prometheus scraping will be empty.",
                "--disable-log-stats: vLLM 0.32 ではスループットのログ行が止まり、/metrics からも vllm: 系列がすべて消えるため、スループットパネルも Prometheus の収集も空になります。",
            ),
            _set(t("Keep the stats lines", "統計行を残す"), disable_log_stats=False),
        )
    ]


@rule
def _double_quant(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    q = cfg.get("quantization")
    if not q or not ctx.facts or not ctx.facts.quant:
        return []
    have = ctx.facts.quant.method
    if q == have or (q.startswith(have) or have.startswith(q)):
        return [
            Finding(
                "info",
                "quant-redundant",
                ("--quantization",),
                t(
                    f"The checkpoint is already {have}; --quantization {q} is redundant.",
                    f"チェックポイントはすでに {have} です。--quantization {q} は不要です。",
                ),
                _set(t("Remove --quantization", "--quantization を外す"), quantization=None),
            )
        ]
    return [
        Finding(
            "error",
            "quant-conflict",
            ("--quantization",),
            t(
                f"The checkpoint is already quantized ({have}); --quantization {q} conflicts with it and vLLM will refuse to load.",
                f"チェックポイントはすでに量子化されています（{have}）。--quantization {q} と矛盾するため、vLLM は読み込みを拒否します。",
            ),
            _set(t("Remove --quantization", "--quantization を外す"), quantization=None),
        )
    ]


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
def _multinode(cfg: ServeConfig, ctx: Context) -> list[Finding]:
    """Several nodes and the Ray backend: tui/core/multinode_checks.py."""
    from tui.core.multinode_checks import multinode_findings

    return multinode_findings(cfg, ctx)
