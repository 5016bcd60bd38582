"""Commands that vLLM always accepts: random configs over the catalog, built with our builder,
parsed by the installed vLLM's own `serve` parser (argv and `--config` YAML): zero rejections,
and the values vLLM parses are the values we meant."""

from __future__ import annotations

import json
import subprocess

import pytest

from tui.core.catalog import CATALOG
from tui.core.commands import build_args, dump_yaml

from ..strategies import sample_configs

pytestmark = pytest.mark.vllm

PARSE = r"""
import sys, json, os, io, contextlib
SRC, TMP, DST = sys.argv[1:4]
sys.argv = ["vllm", "serve"]
from vllm.entrypoints.launchers.cli_args import make_arg_parser
from vllm.utils.argparse_utils import FlexibleArgumentParser
parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
cases = json.load(open(SRC))
out = []
for i, case in enumerate(cases):
    res = {}
    for how in ("argv", "yaml"):
        if how == "argv":
            args = case["argv"]
        else:
            path = os.path.join(TMP, f"c{i}.yaml")
            open(path, "w").write(case["yaml"])
            args = ["--config", path]
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                ns = parser.parse_args(args)
        except SystemExit:
            res[how] = {"error": err.getvalue().strip().splitlines()[-1:]}
            continue
        values = {}
        for dest in case["check"]:
            v = getattr(ns, dest, "<missing>")
            if isinstance(v, list) and not all(isinstance(x, (int, float, str, bool)) for x in v):
                v = [repr(x) for x in v]
            values[dest] = v if isinstance(v, (int, float, str, bool, list, type(None))) else repr(v)
        values["model"] = ns.model_tag or getattr(ns, "model", None)
        res[how] = {"values": values}
    out.append(res)
json.dump(out, open(DST, "w"))
"""

SCALAR_KINDS = ("bool", "int", "float", "choice", "str", "path", "list")


def test_500_random_configs_are_accepted_by_vllms_own_parser(vllm_python, tmp_path):
    unique = sample_configs(600)
    assert len(unique) >= 500, len(unique)
    specs = {s.dest: s for s in CATALOG}
    payload = []
    for cfg in unique:
        check = [d for d, _ in cfg.values if specs[d].kind in SCALAR_KINDS and specs[d].flag]
        payload.append(
            {"argv": [cfg.model, *build_args(cfg)], "yaml": dump_yaml(cfg), "check": check}
        )
    src = tmp_path / "cases.json"
    src.write_text(json.dumps(payload))
    result = tmp_path / "result.json"
    proc = subprocess.run(
        [vllm_python, "-c", PARSE, str(src), str(tmp_path), str(result)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(result.read_text())
    rejected = [
        (payload[i]["argv"], r)
        for i, r in enumerate(results)
        if "error" in r["argv"] or "error" in r["yaml"]
    ]
    assert not rejected, rejected[:5]
    mismatches = []
    for cfg, res in zip(unique, results, strict=True):
        for how in ("argv", "yaml"):
            got = res[how]["values"]
            assert got["model"] == cfg.model
            for dest, want in cfg.values:
                if dest not in got:
                    continue
                have = got[dest]
                if specs[dest].kind == "list" and dest != "lora_modules":
                    want = list(want)
                if dest == "lora_modules":
                    continue  # vLLM turns these into LoRAModulePath objects
                if have != want:
                    mismatches.append((how, dest, want, have))
    assert not mismatches, mismatches[:10]
    print(f"{len(unique)} configs parsed by vLLM via argv and --config YAML, 0 rejections")


def test_flags_all_lists_every_option_of_the_installed_parser(vllm_env):
    from tui.adapters.introspect import parse_help_text

    from ..e2e.conftest import cli

    proc = cli("flags", "--all", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["vllm_version"] == "0.32.0"
    from_vllm = [f for f in data["flags"] if f["source"] != "curated"]
    help_all = subprocess.run(
        [vllm_env, "-m", "vllm.entrypoints.openai.api_server", "--help=all"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    options = parse_help_text(help_all.stdout)
    assert len(from_vllm) == len(options) == data["vllm_option_count"]
    assert {n for f in from_vllm for n in f["names"]} == {n for o in options for n in o["names"]}
    assert all(f["group"] and f["help"] for f in from_vllm)
    curated_only = [f["flag"] for f in data["flags"] if f["source"] == "curated"]
    assert curated_only == ["--swap-space"]


def test_imported_swap_space_is_flagged_as_unknown_to_the_installed_vllm(vllm_env):
    from ..e2e.conftest import cli

    proc = cli(
        "command",
        "--from-command",
        "vllm serve m --swap-space 4 --max-modle-len 100",
        "--format",
        "json",
    )
    assert proc.returncode == 2
    findings = json.loads(proc.stdout)["findings"]
    unknown = {tuple(f["flags"]): f for f in findings if f["code"] == "flag-unknown-to-vllm"}
    assert ("--swap-space",) in unknown
    assert "--max-model-len" in unknown[("--max-modle-len",)]["message"]["en"]
