"""Write a PEFT LoRA adapter for the tiny test model (run with the vLLM env's python).

    python make_lora_adapter.py OUT_DIR RANK [SEED]

adapter_config.json + adapter_model.safetensors with lora_A/lora_B for q_proj and v_proj of
every layer, shaped from the tiny model's config (tests/e2e/make_tiny_model.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

HIDDEN = 128
HEAD_DIM = 64
HEADS = 2
KV_HEADS = 2
LAYERS = 2


def main(out: str, rank: int, seed: int = 0) -> None:
    torch.manual_seed(seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for layer in range(LAYERS):
        for proj, out_dim in (("q_proj", HEADS * HEAD_DIM), ("v_proj", KV_HEADS * HEAD_DIM)):
            prefix = f"base_model.model.model.layers.{layer}.self_attn.{proj}"
            tensors[f"{prefix}.lora_A.weight"] = torch.randn(rank, HIDDEN) * 0.01
            tensors[f"{prefix}.lora_B.weight"] = torch.randn(out_dim, rank) * 0.01
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": rank,
        "lora_alpha": 2 * rank,
        "lora_dropout": 0.0,
        "bias": "none",
        "target_modules": ["q_proj", "v_proj"],
        "fan_in_fan_out": False,
        "modules_to_save": None,
        "base_model_name_or_path": None,
        "inference_mode": True,
    }
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
