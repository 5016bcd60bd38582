"""Per-flag facts live in the flag's declaration: the world size, memory relevance, what
blocks a launch, human-readable numbers. Adding a memory-relevant flag is one catalog entry:
the fixture below declares one, and everything else (config, argv, import, ranges,
calibration key, launch blocking) picks it up without another file changing."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tui.adapters import calibration
from tui.core import catalog
from tui.core.catalog import CATALOG, FlagSpec, t
from tui.core.catalog.parallel import world_size
from tui.core.commands import build_argv
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.importer import parse_command
from tui.core.plan import BLOCKING, GENERAL_BLOCKING, blocking_codes
from tui.core.validate import validate


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, 1),
        ({"tensor_parallel_size": 8}, 8),
        ({"tensor_parallel_size": 8, "pipeline_parallel_size": 2}, 16),
        ({"tensor_parallel_size": 4, "pipeline_parallel_size": 2, "data_parallel_size": 3}, 24),
        ({"data_parallel_size": 2, "enable_expert_parallel": True}, 2),
    ],
)
def test_world_size_is_tp_x_pp_x_dp(values: dict[str, object], expected: int) -> None:
    assert world_size(ServeConfig.build("m", values)) == expected


def test_the_world_size_factors_are_declared_on_the_flags() -> None:
    factors = {s.dest for s in CATALOG if s.world_factor}
    assert factors == {"tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size"}


def test_memory_flags_and_blocking_codes_come_from_the_catalog() -> None:
    assert set(calibration.memory_flags()) == {s.dest for s in CATALOG if s.affects_memory}
    # The set the calibration store was keyed by before the facts moved into the catalog.
    assert set(calibration.memory_flags()) == {
        "dtype", "quantization", "kv_cache_dtype", "tensor_parallel_size",
        "pipeline_parallel_size", "data_parallel_size", "enable_expert_parallel",
        "max_num_seqs", "max_num_batched_tokens", "enforce_eager", "enable_lora", "max_loras",
        "max_lora_rank", "cpu_offload_gb", "block_size",
    }  # fmt: skip
    declared = {code for s in CATALOG for code in s.blocks_launch}
    assert BLOCKING == blocking_codes() == declared | GENERAL_BLOCKING
    for code in ("tp-heads", "gpu-count", "max-len-too-long", "quant-conflict"):
        assert code in BLOCKING


def test_human_readable_and_words_are_flag_facts() -> None:
    cfg = ServeConfig.build("m", {"max_model_len": "32k", "max_num_batched_tokens": "4K"})
    assert cfg.get("max_model_len") == 32000
    assert cfg.get("max_num_batched_tokens") == 4096
    assert ServeConfig.build("m", {"max_model_len": "auto"}).get("max_model_len") == -1
    with pytest.raises(UserError):
        ServeConfig.build("m", {"max_num_seqs": "4k"})  # not declared human_readable
    with pytest.raises(UserError, match="name=path"):
        ServeConfig.build("m", {"enable_lora": True, "lora_modules": ["no-equals-sign"]})


NEW_FLAG = FlagSpec(
    dest="kv_offload_gib",
    flag="--kv-offload-gib",
    kind="float",
    group="memory",
    minimum=0,
    summary=t(
        "Offload this much KV cache to host RAM.", "KV キャッシュをホスト RAM に逃がします。"
    ),
    details=t("A made-up flag for this test.", "このテストのための架空のフラグです。"),
    affects_memory=True,
    blocks_launch=("kv-offload-too-big",),
)


@pytest.fixture
def new_memory_flag(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlagSpec]:
    """Declare one more flag in the catalog: the only change a new memory flag needs."""
    old = catalog.CATALOG
    new = (*old, NEW_FLAG)
    for name, module in list(sys.modules.items()):
        if name.startswith("tui.") and getattr(module, "CATALOG", None) is old:
            monkeypatch.setattr(module, "CATALOG", new)
    monkeypatch.setitem(catalog.BY_DEST, NEW_FLAG.dest, NEW_FLAG)
    for option in NEW_FLAG.option_names:
        monkeypatch.setitem(catalog.BY_OPTION, option, NEW_FLAG)
    yield NEW_FLAG


def test_a_new_memory_flag_is_one_catalog_entry(new_memory_flag: FlagSpec) -> None:
    cfg = ServeConfig.build("org/model", {"kv_offload_gib": "4"})
    assert cfg.get("kv_offload_gib") == 4.0
    assert build_argv(cfg)[-2:] == ["--kv-offload-gib", "4"]
    assert parse_command("vllm serve org/model --kv-offload-gib 4") == cfg
    assert "kv_offload_gib" in calibration.memory_flags()
    key = calibration.key("H100 80GB", cfg, "0.32.0")
    assert key != calibration.key("H100 80GB", cfg.set("kv_offload_gib", 8), "0.32.0")
    assert key == calibration.key("H100 80GB", cfg.set("port", 9000), "0.32.0")
    bad = cfg.set("kv_offload_gib", -1)
    assert any(f.code == "range" for f in validate(bad))
    assert "kv-offload-too-big" in blocking_codes()


def test_without_the_fixture_the_flag_is_unknown() -> None:
    assert "kv_offload_gib" not in calibration.memory_flags()
    with pytest.raises(UserError):
        ServeConfig.build("m", {"kv_offload_gib": 4})
