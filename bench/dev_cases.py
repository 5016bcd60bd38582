"""Turn the shared dev cases (real vLLM startup logs) into estimator inputs.

Each case's model becomes a config.json built from the architecture facts in
`model-archs.json` (plus what the case's model name says about the checkpoint: FP8, AWQ,
W8A8, bitsandbytes, GGUF, MXFP4, the 2507 / Coder 256k context). Nothing here is fitted to
the measured numbers: it only restates what the case and the architecture file say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The repository's own copies (scripts/refresh-data.sh refreshes them from ../shared).
DATA = ROOT / "tests" / "data"
CASES = DATA / "vllm-memory-cases.dev.json"
EXTRA = DATA / "vllm-memory-cases.extra.json"
"""More real startup logs found in vLLM's GitHub issues (same schema), scored separately."""
ARCHS = DATA / "model-archs.json"
SAMPLER = DATA / "sampler-evidence.json"
"""Whether a case's server had flashinfer, where its own log says so (verbatim lines there)."""

# How each case's engine was driven (LLM class vs OpenAI server) changes vLLM's batch
# defaults. Read from the case's own notes/evidence.
LLM_CLASS_HINTS = ("lm_eval", "LLM(", "Unsloth", "unsloth", "benchmark_throughput", "GRPO")


@dataclass
class Case:
    raw: dict[str, Any]
    config: dict[str, Any]
    flags: list[str]
    gpu_gib: float | None
    gpu_name: str
    version: str | None
    engine: str | None
    entry: str
    skip: str | None = None
    flashinfer: bool | None = None
    """From the case's log (sampler-evidence.json); None where the log does not say."""

    @property
    def id(self) -> str:
        return self.raw["case_id"]


def arch_config(arch: dict[str, Any], model: str, quant: str | None) -> dict[str, Any]:
    """A HF-style config.json from the architecture facts."""
    a = dict(arch)
    cfg: dict[str, Any] = {
        "architectures": [a["architecture"].split()[0]],
        "num_hidden_layers": a["num_hidden_layers"],
        "hidden_size": a["hidden_size"],
        "num_attention_heads": a["num_attention_heads"],
        "num_key_value_heads": a["num_key_value_heads"],
        "intermediate_size": a["intermediate_size"],
        "vocab_size": a["vocab_size"],
        "max_position_embeddings": a["max_position_embeddings"],
        "torch_dtype": a["torch_dtype"],
        "tie_word_embeddings": a["tie_word_embeddings"],
    }
    if a.get("head_dim"):
        cfg["head_dim"] = a["head_dim"]
    for key in (
        "num_experts",
        "num_experts_per_tok",
        "moe_intermediate_size",
        "kv_lora_rank",
        "qk_rope_head_dim",
    ):
        if a.get(key):
            cfg[key] = a[key]
    notes = a.get("notes") or ""
    if a.get("kv_lora_rank"):
        for key in ("n_shared_experts", "first_k_dense_replace", "qk_nope_head_dim", "v_head_dim"):
            m = re.search(rf"{key}=(\d+)", notes)
            if m:
                cfg[key] = int(m.group(1))
        cfg["n_routed_experts"] = cfg.pop("num_experts", 0)
    if a.get("sliding_window"):
        cfg["sliding_window"] = a["sliding_window"]
        lt = a.get("layer_types") or ""
        if "alternating" in lt:
            cfg["layer_types"] = [
                "sliding_attention" if i % 2 == 0 else "full_attention"
                for i in range(a["num_hidden_layers"])
            ]
        m = re.search(r"sliding_window_pattern=(\d+)", lt)
        if m:
            cfg["sliding_window_pattern"] = int(m.group(1))
        if "use_sliding_window=false" in notes:
            cfg["use_sliding_window"] = False
    if "num_experts" in cfg and a["architecture"].startswith("Qwen"):
        cfg["decoder_sparse_step"] = 1
    if "Mllama" in a["architecture"]:
        m = re.search(r"cross_attention_layers=\[([\d,]+)\]", notes)
        if m:
            cfg["cross_attention_layers"] = [int(x) for x in m.group(1).split(",")]
    lower = model.lower()
    if "2507" in model or "coder" in lower:
        cfg["max_position_embeddings"] = 262144
    q = (quant or "").lower()
    if "mxfp4" in q or a["architecture"].startswith("GptOss"):
        cfg["quantization_config"] = {"quant_method": "mxfp4"}
    elif "fp8" in q and "fp8" in lower:
        cfg["quantization_config"] = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    elif "awq" in q:
        cfg["quantization_config"] = {"quant_method": "awq", "bits": 4, "group_size": 128}
    elif "w8a8" in q or "compressed" in q:
        cfg["quantization_config"] = {
            "quant_method": "compressed-tensors",
            "config_groups": {"group_0": {"weights": {"num_bits": 8, "type": "int"}}},
        }
    elif "bitsandbytes" in q:
        cfg["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    return cfg


def load_cases(path: Path = CASES) -> list[Case]:
    cases = json.loads(path.read_text())
    archs = json.loads(ARCHS.read_text())
    sampler = json.loads(SAMPLER.read_text())["cases"]
    out = []
    for raw in cases:
        arch = archs.get(raw["arch_key"])
        flags: list[str] = []
        skip = None
        if arch is None:
            skip = f"no architecture facts for {raw['arch_key']}"
            arch = {}
        quant = raw.get("quantization")
        q = (quant or "").lower()
        config = arch_config(arch, raw["model"], quant) if arch else {}
        if "fp8" in q and "fp8" not in raw["model"].lower():
            flags += ["--quantization", "fp8"]
        if "gguf" in q:
            flags += ["--quantization", "gguf"]
        if raw.get("kv_cache_dtype", "auto").startswith("fp8"):
            flags += ["--kv-cache-dtype", "fp8"]
        dtype = (raw.get("dtype") or "").split()[0]
        if dtype in ("float16", "bfloat16", "float32") and dtype != arch.get("torch_dtype"):
            flags += ["--dtype", dtype]
        for key, flag in (
            ("tensor_parallel_size", "--tensor-parallel-size"),
            ("pipeline_parallel_size", "--pipeline-parallel-size"),
            ("gpu_memory_utilization", "--gpu-memory-utilization"),
            ("max_model_len", "--max-model-len"),
            ("max_num_seqs", "--max-num-seqs"),
            ("max_num_batched_tokens", "--max-num-batched-tokens"),
            ("block_size", "--block-size"),
        ):
            value = raw.get(key)
            if value is not None:
                flags += [flag, str(value)]
        if raw.get("enforce_eager"):
            flags.append("--enforce-eager")
        text = json.dumps(raw)
        if "enable_expert_parallel=True" in text or "enable_expert_parallel': True" in text:
            flags.append("--enable-expert-parallel")
        if "MULTIMODAL" in (raw.get("notes") or ""):
            skip = "multimodal profile (vision encoder dummy batch) is out of scope for a text-only estimate"
        engine = (
            "V1"
            if str(raw.get("engine", "")).startswith("V1")
            else "V0"
            if str(raw.get("engine", "")).startswith("V0")
            else None
        )
        entry = "llm" if any(h in text for h in LLM_CLASS_HINTS) else "serve"
        gpu_name = raw.get("gpu") or ""
        out.append(
            Case(
                raw=raw,
                config=config,
                flags=flags,
                gpu_gib=raw.get("gpu_total_gib"),
                gpu_name=gpu_name,
                version=_version(raw.get("vllm_version")),
                engine=engine,
                entry=entry,
                skip=skip,
                flashinfer=sampler.get(raw["case_id"], {}).get("flashinfer"),
            )
        )
    return out


def _version(text: str | None) -> str | None:
    if not text:
        return None
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
    if m:
        return m.group(1)
    if "V0" in text:
        return "0.7.0"
    return None


def write_model_dir(case: Case, root: Path) -> Path:
    d = root / case.id
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(case.config, indent=1))
    return d
