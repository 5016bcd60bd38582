"""The curated catalog: every flag of the user's guide, bilingual help, consistent specs."""

from __future__ import annotations

import json

import pytest

from tui.cli import main
from tui.core.catalog import BY_DEST, CATALOG, SEED_ENV, SEED_FLAGS, lookup_option, ordered


def test_every_seed_flag_is_in_the_catalog_and_marked_seed():
    flags = {s.flag for s in CATALOG}
    assert len(SEED_FLAGS) == 19
    for flag in SEED_FLAGS:
        assert flag in flags, flag
        assert lookup_option(flag)[0].seed
    assert any(s.env == SEED_ENV[0] and s.seed for s in CATALOG)


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.flag or s.env)
def test_every_entry_has_help_in_both_languages(spec):
    for text in (spec.summary, spec.details):
        assert text.en.strip() and text.ja.strip()
        assert text.en != text.ja
    # Japanese help is actually Japanese (has kana).
    assert any("\u3040" <= ch <= "\u30ff" for ch in spec.details.ja)
    assert spec.kind in ("bool", "int", "float", "choice", "str", "path", "json", "list")
    assert spec.flag is None or spec.flag.startswith("--")


def test_dests_and_option_names_are_unique():
    assert len(BY_DEST) == len(CATALOG)
    names = [n for s in CATALOG for n in s.option_names]
    assert len(names) == len(set(names))


def test_issue_flags_are_all_present():
    wanted = [
        "--host",
        "--served-model-name",
        "--max-num-seqs",
        "--max-num-batched-tokens",
        "--enable-prefix-caching",
        "--block-size",
        "--kv-cache-memory-bytes",
        "--cpu-offload-gb",
        "--data-parallel-size",
        "--enable-expert-parallel",
        "--trust-remote-code",
        "--download-dir",
        "--distributed-executor-backend",
        "--lora-modules",
        "--generation-config",
        "--enable-chunked-prefill",
    ]
    for flag in wanted:
        assert lookup_option(flag) is not None, flag


def test_ordering_puts_the_guide_first():
    first = [s.flag for s in ordered()[:19]]
    assert first == list(SEED_FLAGS)


def test_aliases_underscores_and_negation_resolve():
    assert lookup_option("-tp")[0].dest == "tensor_parallel_size"
    assert lookup_option("--max_model_len")[0].dest == "max_model_len"
    spec, negated = lookup_option("--no-enable-prefix-caching")
    assert spec.dest == "enable_prefix_caching" and negated
    assert lookup_option("--no-such-flag") is None


def test_version_notes():
    swap = BY_DEST["swap_space"]
    assert swap.removed_in("0.32.0") is not None
    assert swap.removed_in("0.6.4") is None
    util = BY_DEST["gpu_memory_utilization"]
    assert util.default_for("0.10.2") == 0.9
    assert util.default_for("0.32.0") == 0.92


def test_flags_json_cli_lists_all_seed_flags_with_help(capsys):
    assert main(["flags", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_flag = {f["flag"]: f for f in data["flags"]}
    for flag in SEED_FLAGS:
        assert by_flag[flag]["help"]["en"] and by_flag[flag]["help"]["ja"]


def test_flags_text_in_japanese(capsys):
    assert main(["flags", "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    assert "ガイドのフラグ" in out and "--swap-space" in out
