"""Validation rules about the model and its GPUs: tensor parallel sizes against the heads,
the GPU count, dtype and FP8 support, the context length and a second quantization, plus the
LoRA and stats-log checks that sit between them in the rule order.

The rules register with tui.core.validate's @rule when this module is imported (validate
imports it at its end); import validate, not this module, to run them.
"""

from __future__ import annotations

from tui.core.catalog import spec, t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.fix import Fix
from tui.core.gpu_catalog import GpuSpec
from tui.core.validate import Context, Finding, Level, _set, rule, valid_tp_sizes


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
    """bfloat16, the FP8 KV cache and FP8 weights against the weakest GPU vLLM will get."""
    if not ctx.gpus:
        return []
    gpu = min(ctx.gpus, key=lambda g: g.compute_capability)
    return _bf16(cfg, ctx, gpu) + _fp8_kv_cache(cfg, gpu) + _fp8_weights(cfg, gpu)


def _cc(gpu: GpuSpec) -> str:
    """The compute capability as vLLM prints it: "8.0"."""
    return ".".join(map(str, gpu.compute_capability))


def _bf16(cfg: ServeConfig, ctx: Context, gpu: GpuSpec) -> list[Finding]:
    """--dtype bfloat16 (or auto over a bfloat16 checkpoint) on a GPU without bfloat16."""
    cc = _cc(gpu)
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
    return out


def _fp8_kv_cache(cfg: ServeConfig, gpu: GpuSpec) -> list[Finding]:
    """An FP8 KV cache on a GPU where no (or only some) attention backends support it."""
    cc = _cc(gpu)
    out = []
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
    return out


def _fp8_weights(cfg: ServeConfig, gpu: GpuSpec) -> list[Finding]:
    """--quantization fp8: weight-only without FP8 tensor cores, refused below 8.0."""
    cc = _cc(gpu)
    out = []
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


# After this module's rules, so they keep their place in RULES (see the end of validate.py).
from tui.core import validate_serving as validate_serving  # noqa: E402
