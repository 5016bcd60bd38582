"""Generate a tiny random Llama with a small trained BPE tokenizer (run with vLLM's python).

Usage: python make_tiny_model.py OUT_DIR
2 layers, hidden 128, 2 heads of head_dim 64 (vLLM's CPU attention needs head_dim >= 64),
max_position_embeddings 1024: KV is 2 x 2 layers x 2 heads x 64 x 2 bytes = 1 KiB per token.
"""

from __future__ import annotations

import json
import os
import sys


def corpus() -> list[str]:
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "while",
        "vllm",
        "serves",
        "tokens",
        "fast",
        "on",
        "every",
        "gpu",
        "memory",
        "cache",
        "block",
        "model",
        "layer",
        "head",
        "attention",
        "prompt",
        "request",
        "batch",
        "stream",
        "throughput",
        "hello",
        "world",
        "this",
        "is",
        "a",
        "tiny",
        "test",
        "model",
        "for",
        "the",
        "terminal",
        "app",
        "that",
        "plans",
        "and",
        "launches",
        "servers",
    ]
    lines = []
    for i in range(400):
        lines.append(" ".join(words[(i * k) % len(words)] for k in range(1, 13)))
    return lines


def main(out: str) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    os.makedirs(out, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    )
    fast.save_pretrained(out)
    cfg = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=1024,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        tie_word_embeddings=False,
        torch_dtype="bfloat16",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    with open(os.path.join(out, "generation_config.json"), "w") as fh:
        json.dump({"bos_token_id": fast.bos_token_id, "eos_token_id": fast.eos_token_id}, fh)


if __name__ == "__main__":
    main(sys.argv[1])
