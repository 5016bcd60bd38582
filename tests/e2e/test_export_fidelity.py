"""Every `vllm serve` argument list inside the docker / compose / k8s exports (the docker
command after the image, the compose `command`, the Deployment `args`, the LeaderWorkerSet
leader's `exec vllm serve ...`) is accepted by the installed vLLM's own parser, with the
values we meant."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest
import yaml

from tui.core.catalog import CATALOG
from tui.core.commands import dump_yaml
from tui.core.exports import Target, compose_yaml, docker_text, k8s_yaml, leader_serve_args

from ..strategies import sample_configs
from .test_fidelity import PARSE, SCALAR_KINDS

pytestmark = pytest.mark.vllm

CHANGED_BY_EXPORT = {"host", "distributed_executor_backend"}
"""The container listens on every interface; a multi-node export runs on Ray."""


def serve_lists(cfg, target: Target) -> dict[str, list[str]]:
    """The serve arguments as each export's consumer would see them."""
    text = docker_text(cfg, target)
    argv = shlex.split(text.replace("\\\n", " ").split("\n", 1)[1])
    docker = argv[argv.index(target.tag) + 1 :]
    compose = yaml.safe_load(compose_yaml(cfg, target))["services"][target.name]["command"]
    dep = list(yaml.safe_load_all(k8s_yaml(cfg, target)))[0]
    k8s = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    lws = list(yaml.safe_load_all(k8s_yaml(cfg, Target(nodes=2))))[0]
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
    return {
        "docker": docker,
        # compose and Kubernetes turn `$$` into `$` before the process sees it
        "compose": [a.replace("$$", "$") for a in compose],
        "k8s": [a.replace("$$", "$") for a in k8s],
        "lws": leader_serve_args(leader["command"][-1]),
    }


def test_export_serve_arguments_are_accepted_by_vllms_parser(vllm_python, tmp_path):
    unique = sample_configs(150)
    assert len(unique) >= 100
    specs = {s.dest: s for s in CATALOG}
    target = Target(version="0.32.0", hf_cache="/data/hf")
    payload, meta = [], []
    for cfg in unique:
        check = [
            d
            for d, _ in cfg.values
            if specs[d].kind in SCALAR_KINDS and specs[d].flag and d not in CHANGED_BY_EXPORT
        ]
        for how, args in serve_lists(cfg, target).items():
            payload.append({"argv": args, "yaml": dump_yaml(cfg), "check": check})
            meta.append((how, cfg))
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
        (meta[i][0], payload[i]["argv"], r["argv"])
        for i, r in enumerate(results)
        if "error" in r["argv"]
    ]
    assert not rejected, rejected[:5]
    mismatches = []
    for (how, cfg), res in zip(meta, results, strict=True):
        got = res["argv"]["values"]
        assert got["model"] == cfg.model, how
        for dest, want in cfg.values:
            if dest not in got or dest == "lora_modules":
                continue
            if specs[dest].kind == "list":
                want = list(want)
            if got[dest] != want:
                mismatches.append((how, dest, want, got[dest]))
    assert not mismatches, mismatches[:10]
    print(f"{len(unique)} configs x 4 exports parsed by vLLM's own parser, 0 rejections")
