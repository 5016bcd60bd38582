"""Schemas at the boundary (#11): strict JSON, one schema per file kind naming the bad field,
quarantine of our own files with a message naming them, durable atomic writes, the calibration
lock, and secret-looking environment names kept out of profiles."""

from __future__ import annotations

import json
import os
import threading

import pytest

from tui.adapters import calibration, introspect, profiles, settings
from tui.adapters.vllm_env import VllmInstall
from tui.core.bounds import bounded_float, bounded_int, serve_value_problem, version_arg
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.model_facts import facts_from_config
from tui.core.schema import (
    SchemaError,
    check_model_config,
    check_safetensors_header,
    check_safetensors_index,
    loads_json,
)

LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 1024,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "intermediate_size": 2048,
    "vocab_size": 32000,
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VLLM_TUI_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ('{"a": Infinity}', "Infinity"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"a": NaN}', "NaN"),
        ("[" * 200_000 + "]" * 200_000, "nested"),
        ("[" * 100 + "]" * 100, "nested"),
        ("{oops", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_loads_json_refuses_what_json_should_not_hold(text, word):
    with pytest.raises(SchemaError) as info:
        loads_json(text, "f.json")
    assert word in info.value.message and "f.json" in info.value.message


def test_loads_json_accepts_ordinary_documents():
    assert loads_json('{"a": [1, 2.5, "x", null, true]}', "f") == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"num_hidden_layers": 10**9}, "num_hidden_layers"),
        ({"num_hidden_layers": 2.5}, "num_hidden_layers"),
        ({"num_hidden_layers": True}, "num_hidden_layers"),
        ({"head_dim": -64}, "head_dim"),
        ({"max_position_embeddings": 10**12}, "max_position_embeddings"),
        ({"num_key_value_heads": "4"}, "num_key_value_heads"),
        ({"quantization_config": "fp8"}, "quantization_config"),
        ({"quantization_config": {"quant_method": 8}}, "quant_method"),
        ({"rope_scaling": "yarn"}, "rope_scaling"),
        ({"rope_scaling": {"type": "yarn", "factor": "4"}}, "factor"),
        ({"torch_dtype": "float13"}, "torch_dtype"),
        ({"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
        ({"partial_rotary_factor": 3}, "partial_rotary_factor"),
        ({"cross_attention_layers": ["3"]}, "cross_attention_layers"),
        ({"text_config": {"num_hidden_layers": -1}}, "num_hidden_layers"),
    ],
)
def test_config_schema_names_the_wrong_field(change, field):
    with pytest.raises(SchemaError) as info:
        check_model_config({**LLAMA, **change})
    assert repr(field) in info.value.message
    with pytest.raises(UserError) as info2:
        facts_from_config({**LLAMA, **change}, name="m")
    assert field in info2.value.message


def test_real_config_shapes_still_pass():
    ok = {
        **LLAMA,
        "torch_dtype": "torch.bfloat16",
        "sliding_window": False,
        "num_key_value_heads": None,
        "head_dim": None,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0},
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
        "max_position_embeddings": 131072.0,
    }
    facts = facts_from_config(ok, name="m")
    assert facts.num_layers == 4 and facts.quant is not None and facts.quant.method == "awq"


def test_safetensors_schemas():
    check_safetensors_index({"metadata": {"total_size": 10}, "weight_map": {"w": "a"}}, "i")
    with pytest.raises(SchemaError, match="total_size"):
        check_safetensors_index({"metadata": {"total_size": -1}}, "i")
    with pytest.raises(SchemaError, match="weight_map"):
        check_safetensors_index({"weight_map": {"w": 3}}, "i")
    good = {"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}
    assert check_safetensors_header(good, "h") == good
    with pytest.raises(SchemaError, match="dtype"):
        check_safetensors_header({"w": {"shape": [2], "data_offsets": [0, 4]}}, "h")
    with pytest.raises(SchemaError, match="data_offsets"):
        check_safetensors_header({"w": {"dtype": "F16", "shape": [2], "data_offsets": [4]}}, "h")


def test_bounded_argument_types():
    assert bounded_int("--n", 1, 8)("8") == 8
    for bad in ("9", "0", "x", "1" * 25, "1e3"):
        with pytest.raises(UserError, match="--n"):
            bounded_int("--n", 1, 8)(bad)
    assert bounded_float("--g", 0.5, 100)("80") == 80.0
    for bad in ("1e-300", "inf", "nan", "-3", "abc"):
        with pytest.raises(UserError, match="--g"):
            bounded_float("--g", 0.5, 100)(bad)
    assert version_arg("--v")("v0.10.1rc1") == "0.10.1rc1"
    with pytest.raises(UserError, match="--v"):
        version_arg("--v")("abc")


@pytest.mark.parametrize(
    ("dest", "value", "bad"),
    [
        ("block_size", 7, True),
        ("block_size", 16, False),
        ("block_size", 1, False),
        ("tensor_parallel_size", 2048, True),
        ("tensor_parallel_size", 8, False),
        ("port", 99999, True),
        ("max_model_len", -1, False),
        ("max_model_len", 10**30, True),
        ("max_model_len", 0, True),
        ("swap_space", -1, True),
        ("gpu_memory_utilization", 0.0, True),
        ("gpu_memory_utilization", 1e-320, True),
        ("gpu_memory_utilization", 0.9, False),
    ],
)
def test_serve_value_bounds(dest, value, bad):
    assert (serve_value_problem(dest, "--" + dest, value) is not None) is bad


# -- our own files -----------------------------------------------------------------------------


def test_settings_wrong_types_are_quarantined_with_a_named_message(home, capsys):
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"planning_gpu_count": "two"}))
    loaded = settings.load_settings()
    assert (
        loaded.planning_gpu_count == 1 and loaded.warning and "planning_gpu_count" in loaded.warning
    )
    err = capsys.readouterr().err
    assert str(path) in err and "planning_gpu_count" in err
    assert not path.exists() and list(path.parent.glob("settings.json.corrupt-*"))


def test_settings_good_file_round_trips(home):
    settings.save_settings(settings.Settings(planning_gpu="L40S", planning_gpu_count=4, lang="ja"))
    loaded = settings.load_settings()
    assert (loaded.planning_gpu, loaded.planning_gpu_count, loaded.lang, loaded.warning) == (
        "L40S",
        4,
        "ja",
        None,
    )


def _write_profile(name, data):
    profiles.profiles_dir().mkdir(parents=True, exist_ok=True)
    path = profiles.profiles_dir() / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def test_profile_passthrough_string_is_refused_not_split(home, capsys):
    path = _write_profile("p", {"model": "m", "passthrough": "abc"})
    with pytest.raises(UserError) as info:
        profiles.load_profile("p")
    assert "passthrough" in info.value.message
    assert str(path) in capsys.readouterr().err
    assert not path.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"model": 5},
        {"model": "m", "values": []},
        {"model": "m", "env": {"A": {"x": 1}}},
        {"model": "m", "values": {"tensor_parallel_size": "abc"}},
        [1, 2],
    ],
)
def test_wrong_typed_profiles_are_quarantined(home, capsys, data):
    path = _write_profile("bad", data)
    with pytest.raises(UserError, match="unusable"):
        profiles.load_profile("bad")
    assert str(path) in capsys.readouterr().err
    assert list(path.parent.glob("bad.json.corrupt-*"))


def test_profile_with_an_impossible_port_is_quarantined(home, capsys):
    _write_profile("port", {"model": "m", "values": {"port": 99999}})
    with pytest.raises(UserError, match="--port"):
        profiles.load_profile("port")
    assert "port.json" in capsys.readouterr().err


def test_profile_with_a_flag_this_catalog_does_not_know_loads(home):
    path = _write_profile(
        "future",
        {"model": "m", "values": {"tensor_parallel_size": 2, "shiny_new_flag": 3, "turbo": True}},
    )
    cfg = profiles.load_profile("future")
    assert cfg.get("tensor_parallel_size") == 2
    assert cfg.passthrough == ("--shiny-new-flag", "3", "--turbo")
    assert path.exists()  # loaded, not quarantined


def test_profile_with_a_flag_the_installed_vllm_dropped_loads_for_the_checks(home):
    """--swap-space is in the catalog but gone from vLLM 0.32: loaded, and the checks say so."""
    from tui.core.validate import Context, validate

    path = _write_profile("old", {"model": "m", "values": {"swap_space": 4}})
    cfg = profiles.load_profile("old")
    assert cfg.get("swap_space") == 4 and path.exists()
    findings = validate(cfg, Context(vllm_version="0.32.0"))
    assert any("--swap-space" in f.message.en for f in findings)


def test_profile_never_keeps_secret_looking_env(home):
    cfg = ServeConfig.build("m").with_env(
        {"WANDB_AUTH": "a", "MY_PASSWORD": "b", "OPENAI_API_KEY": "c", "HF_TOKEN": "d", "NCCL_DEBUG": "INFO", "X_SECRET_Y": "e"}
    )  # fmt: skip
    path = profiles.save_profile("s", cfg)
    saved = json.loads(path.read_text())
    assert saved["env"] == {"NCCL_DEBUG": "INFO"}
    data = json.loads(path.read_text())
    data["env"]["SERVICE_AUTH"] = "leaked"  # an old profile holding one: dropped on load
    path.write_text(json.dumps(data))
    assert dict(profiles.load_profile("s").env) == {"NCCL_DEBUG": "INFO"}


def test_options_cache_with_wrong_types_is_quarantined(home, capsys, tmp_path):
    install = VllmInstall(
        python=str(tmp_path / "python"),
        executable=None,
        dist="vllm",
        version="0.32.0",
        source="test",
    )
    path = introspect.Path(introspect._cache_file(install))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "0.32.0", "options": [{"names": "--x", "dest": "x"}]}))
    assert introspect.cached_options(install) is None
    assert str(path) in capsys.readouterr().err and not path.exists()
    good = [{"names": ["--x"], "dest": "x", "group": None, "nargs": None, "help": ""}]
    path.write_text(json.dumps({"version": "0.32.0", "options": good}))
    assert introspect.cached_options(install) == good


def test_atomic_write_fsyncs_before_replace_and_uses_unique_temp_names(home, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(f"replace {a}"), real_replace(a, b))[1])  # fmt: skip
    target = home / "f.json"
    settings.atomic_write(target, "1")
    settings.atomic_write(target, "2")
    assert target.read_text() == "2"
    assert calls[0] == "fsync" and calls[1].startswith("replace")
    temps = [c.split(" ", 1)[1] for c in calls if c.startswith("replace")]
    assert len(set(temps)) == 2


def test_calibration_store_keeps_every_concurrent_record(home):
    def one(i: int) -> None:
        cfg = ServeConfig.build(f"model-{i}")
        calibration.record("GPU", cfg, "0.32.0", {"weights_gib": 1.0 + i, "activation_gib": 0.5})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    data = json.loads((home / "calibration.json").read_text())
    assert len(data) == 12
