"""One schema per file kind we read: types and ranges checked at the boundary.

Every file that comes from outside (a model's config.json, a safetensors index or header, the
settings file, a profile, the options cache) is parsed with `loads_json` (no NaN/Infinity, no
recursion blow-up, a size cap) and checked against its schema here, so the code behind can trust
types and sizes. A bad value is a `SchemaError` naming the file and the field. Sizes are bounded
by what any real model or cluster has, so a hostile file cannot make us allocate without end.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.errors import UserError

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64


class SchemaError(UserError):
    """A file whose content has the wrong type or range (the message names the field)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads_json(text: str | bytes, what: str) -> Any:
    """Parse JSON strictly: no NaN/Infinity, at most MAX_DEPTH levels, at most 64 MB."""
    if len(text) > MAX_JSON_BYTES:
        raise SchemaError(f"{what}: larger than {MAX_JSON_BYTES // 2**20} MB")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise SchemaError(f"{what}: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{what} is not valid JSON (line {exc.lineno})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{what} is not valid JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise SchemaError(f"{what}: nested more than {MAX_DEPTH} levels")
    return data


def _depth(data: Any) -> int:
    """Nesting depth, iteratively (a deep document must not recurse here either)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack += [(v, level + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, level + 1) for v in node]
    return deepest


@dataclass(frozen=True)
class Field:
    """What one field may hold. `kind`: int, number, str, bool, dict, list, str_list, int_list."""

    kind: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] | None = None
    nullable: bool = True
    required: bool = False


_KIND_WORDS = {
    "int": "a whole number",
    "number": "a number",
    "str": "a string",
    "bool": "true or false",
    "dict": "an object",
    "list": "a list",
    "str_list": "a list of strings",
    "int_list": "a list of whole numbers",
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and float(value).is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "dict":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind == "str_list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "int_list":
        return isinstance(value, list) and all(_type_ok("int", v) for v in value)
    raise ValueError(kind)


def field_problem(spec: Field, value: Any) -> str | None:
    """Why `value` does not fit `spec` (None when it does)."""
    if value is None:
        return None if spec.nullable else "must be set"
    if not _type_ok(spec.kind, value):
        return f"must be {_KIND_WORDS[spec.kind]} (got {_show(value)})"
    if spec.kind in ("int", "number"):
        if not math.isfinite(value):
            return f"must be finite (got {value})"
        if spec.lo is not None and value < spec.lo:
            return f"must be at least {spec.lo:g} (got {value:g})"
        if spec.hi is not None and value > spec.hi:
            return f"must be at most {spec.hi:g} (got {value:g})"
    if (
        spec.kind in ("list", "str_list", "int_list")
        and spec.hi is not None
        and len(value) > spec.hi
    ):
        return f"has {len(value)} items, more than {spec.hi:g}"
    if spec.choices is not None and value not in spec.choices:
        return f"must be one of {', '.join(map(str, spec.choices))} (got {_show(value)})"
    return None


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(data: Any, schema: Mapping[str, Field], what: str) -> dict[str, Any]:
    """`data` as a dict if every known field fits its schema; SchemaError naming the first bad one.

    Fields the schema does not name are left alone (files carry many we do not read).
    """
    if not isinstance(data, dict):
        raise SchemaError(f"{what}: expected a JSON object (got {type(data).__name__})")
    for name, spec in schema.items():
        if name not in data:
            if spec.required:
                raise SchemaError(f"{what}: field {name!r} is missing")
            continue
        problem = field_problem(spec, data[name])
        if problem:
            raise SchemaError(f"{what}: field {name!r} {problem}")
    return data


# -- config.json ---------------------------------------------------------------------------

#: Bounds wider than any released model (Llama 3.1 405B: 126 layers, hidden 16384; the longest
#: contexts are ~10M positions; the largest vocabularies ~260k; MoE up to a few hundred experts).
MAX_LAYERS = 1024
MAX_HIDDEN = 1 << 17
MAX_HEADS = 4096
MAX_HEAD_DIM = 4096
MAX_FFN = 1 << 20
MAX_VOCAB = 1 << 23
MAX_POSITIONS = 1 << 27
MAX_EXPERTS = 1 << 14

KNOWN_DTYPES = (
    "float32", "float", "float16", "half", "bfloat16", "float8_e4m3fn", "float8_e5m2",
    "int8", "uint8", "int32", "int64", "bool", "float64", "auto",
)  # fmt: skip


def _ints(lo: int, hi: int, *names: str) -> dict[str, Field]:
    return {n: Field("int", lo, hi) for n in names}


CONFIG_JSON: dict[str, Field] = {
    **_ints(1, MAX_LAYERS, "num_hidden_layers", "n_layer", "num_layers"),
    **_ints(1, MAX_HIDDEN, "hidden_size", "n_embd", "d_model"),
    **_ints(1, MAX_HEADS, "num_attention_heads", "n_head"),
    **_ints(0, MAX_HEADS, "num_key_value_heads", "n_head_kv", "num_kv_heads"),
    **_ints(0, MAX_HEAD_DIM, "head_dim", "attention_head_dim"),
    **_ints(0, MAX_FFN, "intermediate_size", "ffn_dim", "n_inner"),
    **_ints(0, MAX_FFN, "moe_intermediate_size", "shared_expert_intermediate_size"),
    **_ints(1, MAX_VOCAB, "vocab_size", "padded_vocab_size"),
    **_ints(
        1, MAX_POSITIONS, "max_position_embeddings", "n_positions", "max_seq_len", "seq_length"
    ),
    **_ints(
        0,
        MAX_EXPERTS,
        "num_experts",
        "n_routed_experts",
        "num_local_experts",
        "num_experts_per_layer",
    ),
    **_ints(
        0, MAX_EXPERTS, "num_experts_per_tok", "moe_top_k", "top_k_experts", "experts_per_token"
    ),
    **_ints(0, MAX_EXPERTS, "n_shared_experts", "num_shared_experts"),
    **_ints(0, MAX_LAYERS, "first_k_dense_replace", "moe_layer_freq", "decoder_sparse_step"),
    **_ints(
        0,
        1 << 16,
        "kv_lora_rank",
        "q_lora_rank",
        "qk_rope_head_dim",
        "qk_nope_head_dim",
        "v_head_dim",
    ),
    **_ints(0, MAX_LAYERS, "sliding_window_pattern"),
    "sliding_window": Field("number", 0, MAX_POSITIONS),
    "partial_rotary_factor": Field("number", 0, 1),
    "torch_dtype": Field("str"),
    "dtype": Field("str"),
    "tie_word_embeddings": Field("bool"),
    "attention_bias": Field("bool"),
    "use_sliding_window": Field("bool"),
    "architectures": Field("str_list", hi=64),
    "mlp_only_layers": Field("int_list", hi=MAX_LAYERS),
    "cross_attention_layers": Field("int_list", hi=MAX_LAYERS),
    "quantization_config": Field("dict"),
    "rope_scaling": Field("dict"),
    "rope_parameters": Field("dict"),
    "text_config": Field("dict"),
    "llm_config": Field("dict"),
    "language_config": Field("dict"),
}
ROPE: dict[str, Field] = {
    "rope_type": Field("str"),
    "type": Field("str"),
    "factor": Field("number", 0, 1024),
    "original_max_position_embeddings": Field("int", 1, MAX_POSITIONS),
}
QUANT: dict[str, Field] = {
    "quant_method": Field("str"),
    "quant_type": Field("str"),
    "bits": Field("number", 1, 32),
    "w_bit": Field("number", 1, 32),
    "weight_bits": Field("number", 1, 32),
    "group_size": Field("int", -1, 1 << 20),
    "q_group_size": Field("int", -1, 1 << 20),
    "load_in_4bit": Field("bool"),
    "config_groups": Field("dict"),
    "quant_algo": Field("str"),
}


def check_model_config(config: Any, what: str = "config.json") -> dict[str, Any]:
    """config.json (and its nested decoder config, rope and quantization parts) checked."""
    schema = CONFIG_JSON
    if isinstance(config, dict) and isinstance(config.get("sliding_window"), bool):
        schema = {k: v for k, v in CONFIG_JSON.items() if k != "sliding_window"}
    data = check(config, schema, what)
    for key in ("text_config", "llm_config", "language_config"):
        if isinstance(data.get(key), dict):
            check_model_config(data[key], f"{what} {key}")
    for key in ("torch_dtype", "dtype"):
        value = data.get(key)
        if isinstance(value, str) and value.replace("torch.", "") not in KNOWN_DTYPES:
            raise SchemaError(
                f"{what}: field {key!r} must be a torch dtype such as bfloat16 (got {value!r})"
            )
    for key in ("rope_scaling", "rope_parameters"):
        if isinstance(data.get(key), dict):
            check(data[key], ROPE, f"{what} {key}")
    if isinstance(data.get("quantization_config"), dict):
        check(data["quantization_config"], QUANT, f"{what} quantization_config")
    return data


# -- safetensors -----------------------------------------------------------------------------

MAX_CHECKPOINT_BYTES = 1 << 50  # 1 PiB: more than any checkpoint
SAFETENSORS_DTYPES = (
    "F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "I64", "I32", "I16", "I8",
    "U8", "BOOL", "F4", "U32", "U16", "U64", "F6_E2M3", "F6_E3M2", "C64",
)  # fmt: skip
SAFETENSORS_INDEX: dict[str, Field] = {
    "metadata": Field("dict"),
    "weight_map": Field("dict"),
}
INDEX_METADATA: dict[str, Field] = {"total_size": Field("int", 0, MAX_CHECKPOINT_BYTES)}
TENSOR: dict[str, Field] = {
    "dtype": Field("str", choices=SAFETENSORS_DTYPES, nullable=False, required=True),
    "shape": Field("int_list", hi=16, nullable=False, required=True),
    "data_offsets": Field("int_list", hi=2, nullable=False, required=True),
}


def check_safetensors_index(data: Any, what: str) -> dict[str, Any]:
    out = check(data, SAFETENSORS_INDEX, what)
    if isinstance(out.get("metadata"), dict):
        check(out["metadata"], INDEX_METADATA, f"{what} metadata")
    weight_map = out.get("weight_map")
    if isinstance(weight_map, dict):
        for tensor, file in weight_map.items():
            if not isinstance(file, str):
                raise SchemaError(f"{what}: weight_map[{tensor!r}] must be a file name")
    return out


def check_safetensors_header(data: Any, what: str) -> dict[str, Any]:
    """Every tensor entry: a known dtype, a shape of non-negative ints, 0 <= start <= end."""
    if not isinstance(data, dict):
        raise SchemaError(f"{what}: safetensors header is not a JSON object")
    for name, info in data.items():
        if name == "__metadata__":
            if info is not None and not isinstance(info, dict):
                raise SchemaError(f"{what}: __metadata__ must be an object")
            continue
        where = f"{what} tensor {name[:80]!r}"
        check(info, TENSOR, where)
        offsets = info["data_offsets"]
        if len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1] <= MAX_CHECKPOINT_BYTES:
            raise SchemaError(f"{where}: data_offsets must be [start, end] with 0 <= start <= end")
        if any(d < 0 or d > MAX_CHECKPOINT_BYTES for d in info["shape"]):
            raise SchemaError(f"{where}: shape must hold non-negative sizes")
    return data


# -- our own files -----------------------------------------------------------------------------

SETTINGS: dict[str, Field] = {
    "planning_gpu": Field("str", nullable=False),
    "planning_gpu_count": Field("int", 1, 4096, nullable=False),
    "planning_nodes": Field("int", 1, 256, nullable=False),
    "vllm_path": Field("str"),
    "lang": Field("str", choices=("en", "ja")),
    "theme": Field("str"),
    "last_model": Field("str"),
    "gpu_rows": Field("int", 0, 64),
}
PROFILE: dict[str, Field] = {
    "model": Field("str", nullable=False, required=True),
    "values": Field("dict"),
    "passthrough": Field("str_list", hi=4096),
    "env": Field("dict"),
    "cuda_visible_devices": Field("str"),
    "format": Field("int", 1, 1),
}
OPTIONS_CACHE: dict[str, Field] = {
    "version": Field("str"),
    "options": Field("list", nullable=False, required=True),
}
OPTION: dict[str, Field] = {
    "names": Field("str_list", nullable=False, required=True),
    "dest": Field("str", nullable=False, required=True),
    "group": Field("str"),
    "type": Field("str"),
    "choices": Field("list"),
    "nargs": Field("str"),
    "help": Field("str"),
    "action": Field("str"),
}


def check_profile(data: Any, what: str) -> dict[str, Any]:
    out = check(data, PROFILE, what)
    env = out.get("env")
    if isinstance(env, dict):
        for key, value in env.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise SchemaError(f"{what}: env[{key!r}] must be a string")
    return out


def check_options_cache(data: Any, what: str) -> list[dict[str, Any]]:
    out = check(data, OPTIONS_CACHE, what)
    options = out["options"]
    for i, option in enumerate(options):
        check(option, OPTION, f"{what} options[{i}]")
    return list(options)
