"""Local paths a config names are checked before launch (#15): model, tokenizer, chat template,
LoRA modules; Hugging Face ids and inline templates are not paths."""

from __future__ import annotations

from tui.adapters.local_paths import missing_local_paths
from tui.core.config import ServeConfig
from tui.core.gpu_catalog import find_gpu
from tui.core.local_paths import local_paths
from tui.core.plan import BLOCKING, plan


def test_which_values_are_local_paths():
    cfg = ServeConfig.build(
        "Qwen/Qwen3-8B",
        {
            "tokenizer": "./tok",
            "lora_modules": ["sql=/adapters/sql", '{"name": "b", "path": "~/b"}', "hub=org/lora"],
        },
        passthrough=["--chat-template", "{% for m in messages %}{{ m.content }}{% endfor %}"],
    )
    assert local_paths(cfg) == (
        ("tokenizer", "./tok"),
        ("lora_modules", "/adapters/sql"),
        ("lora_modules", "~/b"),
    )
    assert local_paths(ServeConfig.build("/models/x", passthrough=["--chat-template=t.jinja"])) == (
        ("model", "/models/x"),
        ("chat_template", "t.jinja"),
    )


def test_missing_paths_become_a_blocking_check(tmp_path):
    (tmp_path / "tok").mkdir()
    ok = ServeConfig.build("Qwen/Qwen3-8B", {"tokenizer": str(tmp_path / "tok")})
    assert missing_local_paths(ok) == ()
    bad = ServeConfig.build("Qwen/Qwen3-8B", {"tokenizer": "/no/such/path"})
    missing = missing_local_paths(bad)
    assert missing == (("tokenizer", "/no/such/path"),)
    gpu = find_gpu("H100")
    assert gpu is not None
    result = plan(None, bad, (gpu,), planning=True, missing_paths=missing)
    found = [f for f in result.findings if f.code == "path-missing"]
    assert found and found[0].level == "error" and found[0].flags == ("--tokenizer",)
    assert "/no/such/path" in found[0].message.en and found[0].message.ja
    assert "path-missing" in BLOCKING
    assert not [
        f for f in plan(None, ok, (gpu,), planning=True).findings if f.code == "path-missing"
    ]
