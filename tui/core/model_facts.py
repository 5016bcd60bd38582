"""ModelFacts: what the estimator and validation need to know about a model, from config.json.

Pure: takes the parsed config.json (a dict) and, when available, the tensor shapes and dtypes
read from safetensors headers. Handles nested `text_config` (multimodal), GQA/MQA, MLA
(DeepSeek), MoE (experts, shared experts, dense first layers), sliding-window / hybrid layer
patterns, and the checkpoint's `quantization_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tui.core.errors import UserError
from tui.core.quant_config import Quant as Quant
from tui.core.quant_config import parse_quant as parse_quant
from tui.core.schema import SchemaError, check_model_config, check_safetensors_header

DTYPE_BYTES = {
    "float32": 4,
    "float": 4,
    "float16": 2,
    "half": 2,
    "bfloat16": 2,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "int8": 1,
    "uint8": 1,
    "int32": 4,
    "int64": 8,
    "bool": 1,
}
#: safetensors dtype codes -> bytes per element
SAFETENSORS_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F4": 0.5, "U32": 4, "U16": 2,
}  # fmt: skip


#: Architectures whose layout the formulas here follow (others get a flagged best effort).
KNOWN_ARCH_PREFIXES = (
    "Llama", "Mistral", "Mixtral", "Qwen2", "Qwen3", "Gemma", "Phi3", "Deepseek", "GptOss",
    "Mllama", "Llava", "Granite", "Olmo", "OLMo", "InternLM2", "Yi", "Cohere", "Exaone",
)  # fmt: skip


@dataclass(frozen=True)
class ModelFacts:
    """Architecture facts of one model (text decoder)."""

    name: str
    architecture: str
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    torch_dtype: str = "bfloat16"
    tie_word_embeddings: bool = False
    # Mixture of experts
    num_experts: int = 0
    num_experts_per_tok: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    first_dense_layers: int = 0
    moe_layer_freq: int = 1
    # Multi-head latent attention (DeepSeek V2/V3)
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    # Attention layout: one entry per layer, "full" or "sliding" (None = all full).
    layer_types: tuple[str, ...] | None = None
    sliding_window: int | None = None
    attention_bias: bool = False
    qk_norm: bool = False
    norms_per_layer: int = 2
    rope_type: str | None = None
    rope_factor: float = 1.0
    original_max_position_embeddings: int | None = None
    rotary_dim: int | None = None
    cross_attention_layers: tuple[int, ...] = ()
    quant: Quant | None = None
    checkpoint_bytes: int | None = None
    """Total bytes of the weight files when known (safetensors index / headers)."""
    source: str = "config.json"
    best_effort: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    # -- derived ------------------------------------------------------------------------

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def num_sliding_layers(self) -> int:
        return sum(1 for t in self.layer_types or () if t == "sliding")

    @property
    def num_kv_layers(self) -> int:
        """Layers with a KV cache of their own (cross-attention layers have none in V1)."""
        return self.num_layers - len(self.cross_attention_layers)

    @property
    def derived_max_model_len(self) -> int:
        """vLLM's default max_model_len: the position limit after rope scaling."""
        if self.rope_type in ("yarn", "dynamic", "linear") and self.rope_factor > 1:
            base = self.original_max_position_embeddings or self.max_position_embeddings
            return max(self.max_position_embeddings, int(base * self.rope_factor))
        return self.max_position_embeddings

    def with_notes(self, *notes: str) -> ModelFacts:
        return replace(self, notes=self.notes + tuple(notes))


# -- config.json ----------------------------------------------------------------------------


def _first(cfg: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = cfg.get(key)
        if value is not None:
            return value
    return default


def text_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The decoder's config (nested `text_config`/`llm_config` for multimodal) and its arch."""
    archs = config.get("architectures") or []
    arch = archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else ""
    for key in ("text_config", "llm_config", "language_config"):
        nested = config.get(key)
        if isinstance(nested, dict) and nested.get("num_hidden_layers"):
            merged = dict(nested)
            for k in ("quantization_config", "torch_dtype", "tie_word_embeddings"):
                if k in config and k not in merged:
                    merged[k] = config[k]
            return merged, arch or str(nested.get("model_type", ""))
    return dict(config), arch or str(config.get("model_type", ""))


def facts_from_config(
    config: Mapping[str, Any], name: str = "", source: str = "config.json"
) -> ModelFacts:
    """Parse a HF config.json into ModelFacts, or UserError saying what is missing."""
    if not isinstance(config, Mapping):
        raise UserError(f"{name or 'config.json'}: expected a JSON object")
    try:
        check_model_config(dict(config), "")
    except SchemaError as exc:
        field = exc.message.removeprefix(": ").removeprefix(" ")
        raise SchemaError(
            f"{name or 'config.json'}: unusable architecture fields ({field})"
        ) from None
    cfg, arch = text_config(config)
    try:
        return _facts(cfg, arch, name, source)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise UserError(f"{name or 'config.json'}: unusable architecture fields ({exc})") from None


def _int(cfg: Mapping[str, Any], *keys: str, default: int | None = None) -> int:
    value = _first(cfg, *keys, default=default)
    if value is None:
        raise ValueError(f"missing {keys[0]}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{keys[0]} is not a number")
    if int(value) != value or value < 0:
        raise ValueError(f"{keys[0]} must be a non-negative integer")
    return int(value)


def _facts(cfg: Mapping[str, Any], arch: str, name: str, source: str) -> ModelFacts:
    """ModelFacts in stages, in this order (it decides which error a broken config gets):
    the dense shape, MoE, MLA, positions (layer kinds, RoPE) and the architecture's traits."""
    dense = _dense_shape(cfg, arch)
    moe = _moe_shape(cfg, dense["intermediate_size"])
    mla = _mla_shape(cfg)
    positions = _positions(cfg, arch, dense["num_layers"], dense["head_dim"], mla)
    traits = _arch_traits(cfg, arch)
    return ModelFacts(
        name=name or str(cfg.get("_name_or_path", "")),
        architecture=arch or "unknown",
        **dense,
        **moe,
        **mla,
        **positions,
        **traits,
        source=source,
        best_effort=not arch.startswith(KNOWN_ARCH_PREFIXES),
    )


def _dense_shape(cfg: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """Layers, widths, heads (GQA/MQA), vocabulary, positions, dtype and tied embeddings."""
    hidden = _int(cfg, "hidden_size", "n_embd", "d_model")
    layers = _int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(cfg, "num_attention_heads", "n_head")
    if hidden <= 0 or layers <= 0 or heads <= 0:
        raise ValueError("hidden_size, num_hidden_layers and num_attention_heads must be positive")
    kv_heads = _int(cfg, "num_key_value_heads", "n_head_kv", "num_kv_heads", default=heads) or heads
    if kv_heads > heads:
        raise ValueError(
            f"num_key_value_heads ({kv_heads}) is more than num_attention_heads ({heads})"
        )
    head_dim = _first(cfg, "head_dim", "attention_head_dim")
    head_dim = int(head_dim) if isinstance(head_dim, int | float) and head_dim else hidden // heads
    if head_dim <= 0:
        raise ValueError("head_dim is 0 (hidden_size is smaller than num_attention_heads)")
    inter = _int(cfg, "intermediate_size", "ffn_dim", "n_inner", default=4 * hidden)
    vocab = _int(cfg, "vocab_size", "padded_vocab_size")
    max_pos = _int(
        cfg, "max_position_embeddings", "n_positions", "max_seq_len", "seq_length", default=2048
    )
    dtype = str(_first(cfg, "torch_dtype", "dtype", default="bfloat16")).replace("torch.", "")
    tie = bool(cfg.get("tie_word_embeddings", arch.startswith(("Gemma", "gemma"))))
    return {
        "num_layers": layers,
        "hidden_size": hidden,
        "num_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": inter,
        "vocab_size": vocab,
        "max_position_embeddings": max_pos,
        "torch_dtype": dtype if dtype in DTYPE_BYTES else "bfloat16",
        "tie_word_embeddings": tie,
    }


def _moe_shape(cfg: Mapping[str, Any], inter: int) -> dict[str, Any]:
    """Experts, experts per token, expert and shared-expert widths, dense first layers."""
    num_experts = _int(
        cfg,
        "num_experts",
        "n_routed_experts",
        "num_local_experts",
        "num_experts_per_layer",
        default=0,
    )
    topk = _int(
        cfg, "num_experts_per_tok", "moe_top_k", "top_k_experts", "experts_per_token", default=0
    )
    if num_experts and topk > num_experts:
        raise ValueError(f"num_experts_per_tok ({topk}) is more than num_experts ({num_experts})")
    moe_inter = _int(cfg, "moe_intermediate_size", default=inter if num_experts else 0)
    shared = 0
    if num_experts:
        n_shared = _int(cfg, "n_shared_experts", "num_shared_experts", default=0)
        shared = n_shared * moe_inter + _int(cfg, "shared_expert_intermediate_size", default=0)
    first_dense = _int(cfg, "first_k_dense_replace", default=0)
    mlp_only = cfg.get("mlp_only_layers") or []
    freq = _int(cfg, "moe_layer_freq", "decoder_sparse_step", default=1) or 1
    if isinstance(mlp_only, list) and mlp_only:
        first_dense = max(first_dense, len(mlp_only))
    return {
        "num_experts": num_experts,
        "num_experts_per_tok": topk,
        "moe_intermediate_size": moe_inter,
        "shared_expert_intermediate_size": shared,
        "first_dense_layers": first_dense,
        "moe_layer_freq": freq,
    }


def _mla_shape(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Multi-head latent attention (DeepSeek): the LoRA ranks and the split head dims."""
    return {
        "kv_lora_rank": _int(cfg, "kv_lora_rank", default=0),
        "qk_rope_head_dim": _int(cfg, "qk_rope_head_dim", default=0),
        "qk_nope_head_dim": _int(cfg, "qk_nope_head_dim", default=0),
        "v_head_dim": _int(cfg, "v_head_dim", default=0),
        "q_lora_rank": _int(cfg, "q_lora_rank", default=0),
    }


def _positions(
    cfg: Mapping[str, Any], arch: str, layers: int, head_dim: int, mla: Mapping[str, Any]
) -> dict[str, Any]:
    """Per-layer attention kinds and window, RoPE scaling, rotary width, cross-attention."""
    layer_types, window = _layer_types(cfg, arch, layers)
    rope = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    rope = rope if isinstance(rope, dict) else {}
    rope_type = rope.get("rope_type") or rope.get("type")
    factor = rope.get("factor", 1.0)
    partial = cfg.get("partial_rotary_factor")
    rotary = int(head_dim * partial) if isinstance(partial, int | float) and partial else None
    if mla["kv_lora_rank"]:
        rotary = mla["qk_rope_head_dim"]
    cross = tuple(int(x) for x in cfg.get("cross_attention_layers") or () if isinstance(x, int))
    return {
        "layer_types": layer_types,
        "sliding_window": window,
        "rope_type": str(rope_type) if rope_type else None,
        "rope_factor": float(factor) if isinstance(factor, int | float) else 1.0,
        "original_max_position_embeddings": rope.get("original_max_position_embeddings"),
        "rotary_dim": rotary,
        "cross_attention_layers": cross,
    }


def _arch_traits(cfg: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """Norms per layer, QK norm and attention bias by family; the checkpoint's quantization."""
    return {
        "norms_per_layer": 4 if arch.startswith(("Gemma2", "Gemma3")) else 2,
        "qk_norm": arch.startswith(("Qwen3", "Gemma3", "OLMo2", "Olmo2")),
        "attention_bias": bool(cfg.get("attention_bias", arch.startswith("Qwen2"))),
        "quant": parse_quant(cfg.get("quantization_config")),
    }


def _layer_types(
    cfg: Mapping[str, Any], arch: str, layers: int
) -> tuple[tuple[str, ...] | None, int | None]:
    """Per-layer attention kind, following how vLLM reads each family's config."""
    window = cfg.get("sliding_window")
    window = (
        int(window)
        if isinstance(window, int | float) and not isinstance(window, bool) and window
        else None
    )
    explicit = cfg.get("layer_types")
    if isinstance(explicit, list) and len(explicit) == layers:
        kinds = tuple("sliding" if "sliding" in str(k) else "full" for k in explicit)
        return (kinds if "sliding" in kinds else None), window
    pattern = cfg.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 1 and window:
        # Gemma 3: every pattern-th layer is global.
        kinds = tuple("full" if (i + 1) % pattern == 0 else "sliding" for i in range(layers))
        return kinds, window
    if arch.startswith("Gemma2") and window:
        return tuple("sliding" if i % 2 == 0 else "full" for i in range(layers)), window
    if window and cfg.get("use_sliding_window") is False:
        return None, None
    if window and window < _int(cfg, "max_position_embeddings", default=window + 1):
        if cfg.get("use_sliding_window") is None and not arch.startswith(
            ("Mistral", "Mixtral", "Phi3")
        ):
            return None, None
        # Every layer slides (Mistral v0.1 style): vLLM gives each layer a window-sized cache.
        return tuple("sliding" for _ in range(layers)), window
    return None, None


def safetensors_summary(
    headers: list[Mapping[str, Any]],
) -> tuple[int, dict[str, tuple[str, tuple[int, ...]]]]:
    """Total bytes and {tensor: (dtype, shape)} from parsed safetensors JSON headers."""
    total = 0
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for header in headers:
        check_safetensors_header(header, "safetensors header")
        for tname, info in header.items():
            if tname == "__metadata__" or not isinstance(info, dict):
                continue
            offsets = info.get("data_offsets") or [0, 0]
            total += int(offsets[1]) - int(offsets[0])
            tensors[tname] = (
                str(info.get("dtype")),
                tuple(int(x) for x in info.get("shape") or ()),
            )
    return total, tensors
