"""Built-in architectures of popular models, so planning works offline and before a download.

Values restate the public config.json of each repo (the fields the estimator reads). A model
id not listed here is resolved from a local directory, the HF cache or the hub instead.
"""

from __future__ import annotations

from typing import Any

from tui.core.model_facts import ModelFacts, facts_from_config


def _llama(
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    inter: int,
    *,
    vocab: int = 128256,
    pos: int = 131072,
    tie: bool = False,
    head_dim: int | None = None,
    arch: str = "LlamaForCausalLM",
    **extra: Any,
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "architectures": [arch], "num_hidden_layers": layers, "hidden_size": hidden,
        "num_attention_heads": heads, "num_key_value_heads": kv, "intermediate_size": inter,
        "vocab_size": vocab, "max_position_embeddings": pos, "tie_word_embeddings": tie,
        "torch_dtype": "bfloat16",
    }  # fmt: skip
    if head_dim:
        cfg["head_dim"] = head_dim
    cfg.update(extra)
    return cfg


def _qwen2(
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    inter: int,
    *,
    vocab: int = 152064,
    tie: bool = False,
    pos: int = 32768,
) -> dict[str, Any]:
    return _llama(layers, hidden, heads, kv, inter, vocab=vocab, pos=pos, tie=tie, arch="Qwen2ForCausalLM",
                  sliding_window=131072, use_sliding_window=False)  # fmt: skip


def _qwen3(
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    inter: int,
    *,
    tie: bool = False,
    pos: int = 40960,
    **moe: Any,
) -> dict[str, Any]:
    arch = "Qwen3MoeForCausalLM" if moe else "Qwen3ForCausalLM"
    return _llama(layers, hidden, heads, kv, inter, vocab=151936, pos=pos, tie=tie, head_dim=128, arch=arch,
                  use_sliding_window=False, **moe)  # fmt: skip


def _qwen3_moe(
    layers: int, hidden: int, heads: int, inter: int, moe_inter: int, *, pos: int = 40960
) -> dict[str, Any]:
    """Qwen3 MoE: 4 KV heads, 128 experts, top-8, every layer sparse."""
    return _qwen3(layers, hidden, heads, 4, inter, pos=pos, num_experts=128,
                  num_experts_per_tok=8, moe_intermediate_size=moe_inter, decoder_sparse_step=1)  # fmt: skip


def _gpt_oss(layers: int, experts: int) -> dict[str, Any]:
    """gpt-oss: MXFP4 experts (top-4), sliding (128) and full attention alternating."""
    return _llama(layers, 2880, 64, 8, 2880, vocab=201088, pos=131072, head_dim=64, arch="GptOssForCausalLM",
                  num_local_experts=experts, num_experts_per_tok=4, sliding_window=128, attention_bias=True,
                  layer_types=["sliding_attention", "full_attention"] * (layers // 2),
                  quantization_config={"quant_method": "mxfp4"})  # fmt: skip


def _gemma3(
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    inter: int,
    head_dim: int,
    *,
    pos: int = 131072,
    window: int = 1024,
    multimodal: bool = True,
) -> dict[str, Any]:
    text = _llama(layers, hidden, heads, kv, inter, vocab=262208 if multimodal else 262144, pos=pos, tie=True,
                  head_dim=head_dim, arch="Gemma3ForCausalLM", sliding_window=window, sliding_window_pattern=6)  # fmt: skip
    if not multimodal:
        return text
    return {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "text_config": text,
        "torch_dtype": "bfloat16",
    }


_LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192}

CONFIGS: dict[str, dict[str, Any]] = {
    # Llama 3.x
    "meta-llama/Llama-3.2-1B-Instruct": _llama(
        16, 2048, 32, 8, 8192, tie=True, head_dim=64, rope_scaling=_LLAMA3_ROPE
    ),
    "meta-llama/Llama-3.2-3B-Instruct": _llama(
        28, 3072, 24, 8, 8192, tie=True, head_dim=128, rope_scaling=_LLAMA3_ROPE
    ),
    "meta-llama/Llama-3.1-8B-Instruct": _llama(32, 4096, 32, 8, 14336, rope_scaling=_LLAMA3_ROPE),
    "meta-llama/Meta-Llama-3-8B-Instruct": _llama(32, 4096, 32, 8, 14336, pos=8192),
    "meta-llama/Llama-3.1-70B-Instruct": _llama(80, 8192, 64, 8, 28672, rope_scaling=_LLAMA3_ROPE),
    "meta-llama/Llama-3.3-70B-Instruct": _llama(80, 8192, 64, 8, 28672, rope_scaling=_LLAMA3_ROPE),
    "meta-llama/Llama-3.1-405B-Instruct": _llama(
        126, 16384, 128, 8, 53248, rope_scaling=_LLAMA3_ROPE
    ),
    # Qwen 2.5
    "Qwen/Qwen2.5-0.5B-Instruct": _qwen2(24, 896, 14, 2, 4864, vocab=151936, tie=True),
    "Qwen/Qwen2.5-1.5B-Instruct": _qwen2(28, 1536, 12, 2, 8960, vocab=151936, tie=True),
    "Qwen/Qwen2.5-3B-Instruct": _qwen2(36, 2048, 16, 2, 11008, vocab=151936, tie=True),
    "Qwen/Qwen2.5-7B-Instruct": _qwen2(28, 3584, 28, 4, 18944),
    "Qwen/Qwen2.5-14B-Instruct": _qwen2(48, 5120, 40, 8, 13824),
    "Qwen/Qwen2.5-32B-Instruct": _qwen2(64, 5120, 40, 8, 27648),
    "Qwen/Qwen2.5-72B-Instruct": _qwen2(80, 8192, 64, 8, 29568),
    # Qwen 3 (dense and MoE)
    "Qwen/Qwen3-0.6B": _qwen3(28, 1024, 16, 8, 3072, tie=True),
    "Qwen/Qwen3-1.7B": _qwen3(28, 2048, 16, 8, 6144, tie=True),
    "Qwen/Qwen3-4B": _qwen3(36, 2560, 32, 8, 9728, tie=True),
    "Qwen/Qwen3-8B": _qwen3(36, 4096, 32, 8, 12288),
    "Qwen/Qwen3-14B": _qwen3(40, 5120, 40, 8, 17408),
    "Qwen/Qwen3-32B": _qwen3(64, 5120, 64, 8, 25600),
    "Qwen/Qwen3-30B-A3B": _qwen3_moe(48, 2048, 32, 6144, 768),
    "Qwen/Qwen3-30B-A3B-Instruct-2507": _qwen3_moe(48, 2048, 32, 6144, 768, pos=262144),
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": _qwen3_moe(48, 2048, 32, 6144, 768, pos=262144),
    "Qwen/Qwen3-235B-A22B": _qwen3_moe(94, 4096, 64, 12288, 1536),
    "Qwen/Qwen3-235B-A22B-Instruct-2507": _qwen3_moe(94, 4096, 64, 12288, 1536, pos=262144),
    # Mistral / Mixtral
    "mistralai/Mistral-7B-Instruct-v0.3": _llama(
        32, 4096, 32, 8, 14336, vocab=32768, pos=32768, arch="MistralForCausalLM"
    ),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": _llama(
        32,
        4096,
        32,
        8,
        14336,
        vocab=32000,
        pos=32768,
        arch="MixtralForCausalLM",
        num_local_experts=8,
        num_experts_per_tok=2,
    ),
    # Gemma 2 / 3
    "google/gemma-2-9b-it": _llama(
        42,
        3584,
        16,
        8,
        14336,
        vocab=256000,
        pos=8192,
        tie=True,
        head_dim=256,
        arch="Gemma2ForCausalLM",
        sliding_window=4096,
    ),
    "google/gemma-2-27b-it": _llama(
        46,
        4608,
        32,
        16,
        36864,
        vocab=256000,
        pos=8192,
        tie=True,
        head_dim=128,
        arch="Gemma2ForCausalLM",
        sliding_window=4096,
    ),
    "google/gemma-3-1b-it": _gemma3(
        26, 1152, 4, 1, 6912, 256, pos=32768, window=512, multimodal=False
    ),
    "google/gemma-3-4b-it": _gemma3(34, 2560, 8, 4, 10240, 256),
    "google/gemma-3-12b-it": _gemma3(48, 3840, 16, 8, 15360, 256),
    "google/gemma-3-27b-it": _gemma3(62, 5376, 32, 16, 21504, 128),
    # Phi
    "microsoft/Phi-3-mini-4k-instruct": _llama(
        32, 3072, 32, 32, 8192, vocab=32064, pos=4096, arch="Phi3ForCausalLM"
    ),
    "microsoft/Phi-3-medium-4k-instruct": _llama(
        40, 5120, 40, 10, 17920, vocab=32064, pos=4096, arch="Phi3ForCausalLM"
    ),
    "microsoft/phi-4": _llama(
        40, 5120, 40, 10, 17920, vocab=100352, pos=16384, arch="Phi3ForCausalLM"
    ),
    "microsoft/Phi-4-mini-instruct": _llama(
        32,
        3072,
        24,
        8,
        8192,
        vocab=200064,
        pos=131072,
        tie=True,
        arch="Phi3ForCausalLM",
        partial_rotary_factor=0.75,
    ),
    # DeepSeek (MLA)
    "deepseek-ai/DeepSeek-V2-Lite-Chat": _llama(
        27,
        2048,
        16,
        16,
        10944,
        vocab=102400,
        pos=163840,
        arch="DeepseekV2ForCausalLM",
        kv_lora_rank=512,
        qk_rope_head_dim=64,
        qk_nope_head_dim=128,
        v_head_dim=128,
        n_routed_experts=64,
        num_experts_per_tok=6,
        moe_intermediate_size=1408,
        n_shared_experts=2,
        first_k_dense_replace=1,
    ),  # fmt: skip
    "deepseek-ai/DeepSeek-V3": _llama(
        61,
        7168,
        128,
        128,
        18432,
        vocab=129280,
        pos=163840,
        arch="DeepseekV3ForCausalLM",
        kv_lora_rank=512,
        q_lora_rank=1536,
        qk_rope_head_dim=64,
        qk_nope_head_dim=128,
        v_head_dim=128,
        n_routed_experts=256,
        num_experts_per_tok=8,
        moe_intermediate_size=2048,
        n_shared_experts=1,
        first_k_dense_replace=3,
        quantization_config={"quant_method": "fp8", "weight_block_size": [128, 128]},
    ),  # fmt: skip
    # gpt-oss (MXFP4 experts, alternating sliding/full attention)
    "openai/gpt-oss-20b": _gpt_oss(24, 32),
    "openai/gpt-oss-120b": _gpt_oss(36, 128),
}

# Checkpoint variants that share an architecture (quantized uploads, renamed repos).
ALIASES: dict[str, str] = {
    "unsloth/Llama-3.3-70B-Instruct": "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.1-8B": "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Meta-Llama-3-8B": "meta-llama/Meta-Llama-3-8B-Instruct",
    "Qwen/Qwen3-8B-FP8": "Qwen/Qwen3-8B",
    "Qwen/Qwen3-14B-AWQ": "Qwen/Qwen3-14B",
    "Qwen/Qwen3-30B-A3B-FP8": "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-235B-A22B-FP8": "Qwen/Qwen3-235B-A22B",
    "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8": "Qwen/Qwen3-235B-A22B-Instruct-2507",
    "unsloth/gpt-oss-20b": "openai/gpt-oss-20b",
    "deepseek-ai/DeepSeek-R1": "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-V2-Lite": "deepseek-ai/DeepSeek-V2-Lite-Chat",
}

_SUFFIX_QUANT = {
    "-fp8": {"quant_method": "fp8", "weight_block_size": [128, 128]},
    "-awq": {"quant_method": "awq", "bits": 4, "group_size": 128},
    "-gptq-int4": {"quant_method": "gptq", "bits": 4, "group_size": 128},
    "-gptq-int8": {"quant_method": "gptq", "bits": 8, "group_size": 128},
}


def builtin_config(model: str) -> dict[str, Any] | None:
    """config.json for a known model id (case-insensitive), with quantized-upload suffixes."""
    lookup = {k.lower(): k for k in CONFIGS} | {k.lower(): v for k, v in ALIASES.items()}
    key = lookup.get(model.lower())
    base = CONFIGS.get(key) if key else None
    if base is None:
        return None
    cfg = dict(base)
    for suffix, qc in _SUFFIX_QUANT.items():
        if model.lower().endswith(suffix) or suffix + "-" in model.lower():
            cfg["quantization_config"] = qc
    return cfg


def builtin_facts(model: str) -> ModelFacts | None:
    cfg = builtin_config(model)
    if cfg is None:
        return None
    return facts_from_config(cfg, name=model, source="built-in catalog")


def search(text: str, limit: int = 20) -> list[str]:
    """Catalog ids containing all words of `text` (for the model picker)."""
    words = text.lower().split()
    ids = sorted(set(CONFIGS) | set(ALIASES))
    return [i for i in ids if all(w in i.lower() for w in words)][:limit]
