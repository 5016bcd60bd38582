"""Model facts from a local folder, a fake local HF cache, and the built-in catalog (no network)."""

from __future__ import annotations

import json
import struct

import pytest

from tui.adapters.model_source import facts_from_dir, read_safetensors_header, resolve_model
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.estimate import Target, estimate
from tui.core.gpu_catalog import GiB, find_gpu

LLAMA_TINY = {
    "architectures": ["LlamaForCausalLM"], "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 512,
    "max_position_embeddings": 1024, "torch_dtype": "bfloat16", "tie_word_embeddings": False,
}  # fmt: skip


def write_safetensors(path, tensors: dict[str, tuple[str, list[int]]]) -> int:
    """A real safetensors file (header + zero bytes); returns the tensor bytes."""
    sizes = {"BF16": 2, "F32": 4, "F8_E4M3": 1}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)
    return offset


def tiny_dir(tmp_path, extra_bytes: int = 0):
    d = tmp_path / "tiny"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(LLAMA_TINY))
    tensors = {
        "model.embed_tokens.weight": ("BF16", [512, 128]),
        "lm_head.weight": ("BF16", [512, 128]),
        "model.norm.weight": ("BF16", [128]),
    }
    for i in range(2):
        p = f"model.layers.{i}."
        tensors |= {
            p + "self_attn.q_proj.weight": ("BF16", [128, 128]),
            p + "self_attn.k_proj.weight": ("BF16", [128, 128]),
            p + "self_attn.v_proj.weight": ("BF16", [128, 128]),
            p + "self_attn.o_proj.weight": ("BF16", [128, 128]),
            p + "mlp.gate_proj.weight": ("BF16", [256, 128]),
            p + "mlp.up_proj.weight": ("BF16", [256, 128]),
            p + "mlp.down_proj.weight": ("BF16", [128, 256]),
            p + "input_layernorm.weight": ("BF16", [128]),
            p + "post_attention_layernorm.weight": ("BF16", [128]),
        }
    if extra_bytes:
        tensors["vision_tower.big.weight"] = ("BF16", [extra_bytes // 2])
    total = write_safetensors(d / "model.safetensors", tensors)
    return d, total


def test_local_folder_reads_config_and_safetensors_headers_only(tmp_path):
    d, total = tiny_dir(tmp_path)
    facts = facts_from_dir(d)
    assert facts.num_layers == 2 and facts.source == "local directory"
    assert facts.checkpoint_bytes == total
    header = read_safetensors_header(d / "model.safetensors")
    assert header["lm_head.weight"]["shape"] == [512, 128]


def test_checkpoint_size_agrees_with_the_formulas_for_a_plain_model(tmp_path):
    d, _ = tiny_dir(tmp_path)
    facts = facts_from_dir(d)
    est = estimate(facts, ServeConfig(str(d)), Target(gpu=find_gpu("L4")))
    assert not any("scaled" in n for n in est.notes)  # formulas == checkpoint within 1%


def test_checkpoint_size_wins_when_config_json_cannot_tell(tmp_path):
    d, total = tiny_dir(
        tmp_path, extra_bytes=300_000
    )  # e.g. a vision tower config.json does not describe
    facts = facts_from_dir(d)
    est = estimate(facts, ServeConfig(str(d)), Target(gpu=find_gpu("L4")))
    assert any("scaled" in n for n in est.notes)
    rope = 1024 * 64 * 2
    assert est.term("weights").value == pytest.approx(total + rope, rel=0.02)


def test_index_json_total_size_is_used(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(LLAMA_TINY))
    (d / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 123456}, "weight_map": {}})
    )
    assert facts_from_dir(d).checkpoint_bytes == 123456


def fake_hf_cache(cache, repo: str, config: dict) -> None:
    folder = cache / ("models--" + repo.replace("/", "--"))
    snap = folder / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("abc123")


def test_hf_cache_is_used_offline(tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fake_hf_cache(cache, "someorg/tiny-llama", LLAMA_TINY)
    facts = resolve_model("someorg/tiny-llama")
    assert facts.source == "Hugging Face cache" and facts.num_layers == 2


def test_offline_unknown_id_falls_back_to_builtin_catalog_or_fails_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    facts = resolve_model("Qwen/Qwen3-8B")
    assert facts.source == "built-in catalog" and facts.num_layers == 36
    with pytest.raises(UserError, match="not in the built-in catalog"):
        resolve_model("nobody/nothing-here")


def test_hub_path_uses_huggingface_hub_and_reports_its_error(monkeypatch):
    """Online: config.json via hf_hub_download; a gated/missing repo is a clear error, and a
    known id still plans from the catalog (never a traceback)."""
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("tui.adapters.model_source.hub_reachable", lambda timeout=2.0: True)
    calls = []

    def fake_download(repo_id, filename, **kw):
        calls.append((repo_id, filename))
        import httpx2

        response = httpx2.Response(
            401,
            request=httpx2.Request(
                "GET", f"https://huggingface.co/{repo_id}/resolve/main/{filename}"
            ),
        )
        raise GatedRepoError("401 Client Error: Cannot access gated repo", response=response)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    facts = resolve_model("meta-llama/Llama-3.1-8B-Instruct")
    assert calls == [("meta-llama/Llama-3.1-8B-Instruct", "config.json")]
    assert facts.source == "built-in catalog" and any("401" in n for n in facts.notes)
    with pytest.raises(UserError, match="hub said"):
        resolve_model("meta-llama/private-thing")


def test_unreachable_hub_is_detected_fast(monkeypatch):
    import time

    from tui.adapters import model_source

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    model_source._REACHABLE.clear()
    t0 = time.monotonic()
    facts = resolve_model("Qwen/Qwen3-8B")
    assert time.monotonic() - t0 < 5
    assert facts.source == "built-in catalog" and any("unreachable" in n for n in facts.notes)
    with pytest.raises(UserError, match="unreachable"):
        resolve_model("nobody/nothing-here")


def test_hub_download_success(monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("tui.adapters.model_source.hub_reachable", lambda timeout=2.0: True)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_TINY))
    monkeypatch.setattr(
        huggingface_hub, "hf_hub_download", lambda repo_id, filename, **kw: str(path)
    )

    def no_meta(*a, **k):
        raise RuntimeError("no safetensors metadata offline")

    monkeypatch.setattr(huggingface_hub, "get_safetensors_metadata", no_meta)
    facts = resolve_model("someone/new-model")
    assert facts.source == "hub" and facts.hidden_size == 128


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{oops", "not valid JSON"),
        ('{"hidden_size": 1}', "unusable"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_broken_config_json(tmp_path, content, needle):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "config.json").write_text(content)
    with pytest.raises(UserError, match=needle):
        facts_from_dir(d)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(UserError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_corrupt_safetensors_header(tmp_path):
    d, _ = tiny_dir(tmp_path)
    (d / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(UserError, match="safetensors"):
        facts_from_dir(d)


def test_gib_constant():
    assert GiB == 1 << 30


def test_cached_models_are_listed_for_the_picker(tmp_path, monkeypatch):
    from tui.adapters.model_source import list_cached_models

    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    fake_hf_cache(cache, "someorg/tiny-llama", LLAMA_TINY)
    (cache / "datasets--x--y").mkdir()
    assert list_cached_models() == ["someorg/tiny-llama"]
