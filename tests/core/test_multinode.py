"""Several nodes, pure parts: Ray's node records -> Cluster, TP x PP x DP laid out on nodes
with per-stage numbers, the multi-node checks, the Ray log diagnoses, the bring-up scripts."""

from __future__ import annotations

from typing import Any

import pytest

from tui.core.arch_catalog import builtin_facts
from tui.core.commands import nodes_bringup, ray_bringup, render_bringup
from tui.core.config import ServeConfig
from tui.core.diagnose import diagnose
from tui.core.gpu_catalog import GpuSpec, find_gpu
from tui.core.multinode import Cluster, cluster_from_ray, default_layout, plan_nodes
from tui.core.multinode_checks import looks_local, multinode_findings, ray_refusal
from tui.core.plan import plan
from tui.core.validate import Context, Finding


def _h100() -> GpuSpec:
    gpu = find_gpu("H100")
    assert gpu is not None
    return gpu


H100 = _h100()
LLAMA_405B = "meta-llama/Llama-3.1-405B-Instruct"


def _ray_node(ip: str, gpus: int, kind: str | None, head: bool = False, alive: bool = True,
              version: str | None = None) -> dict[str, Any]:  # fmt: skip
    resources: dict[str, float] = {"CPU": 16.0, "memory": 64e9, f"node:{ip}": 1.0}
    if gpus:
        resources["GPU"] = float(gpus)
    if kind:
        resources[f"accelerator_type:{kind}"] = 1.0
    if head:
        resources["node:__internal_head__"] = 1.0
    node = {
        "NodeID": (ip.replace(".", "") * 20)[:56],
        "Alive": alive,
        "NodeManagerAddress": ip,
        "Resources": resources if alive else {},
        "Labels": {},
    }
    if version:
        node["vllm_version"] = version
    return node


def _cluster(*nodes: dict[str, Any]) -> Cluster:
    return cluster_from_ray({"nodes": list(nodes), "address": "10.0.0.1:6379", "ray_version": "2.60.0"})  # fmt: skip


TWO_BY_EIGHT = _cluster(
    _ray_node("10.0.0.2", 8, "H100"), _ray_node("10.0.0.1", 8, "H100", head=True)
)


def test_ray_records_become_nodes_head_first() -> None:
    c = TWO_BY_EIGHT
    assert [n.ip for n in c.nodes] == ["10.0.0.1", "10.0.0.2"]
    assert c.nodes[0].is_head and not c.nodes[1].is_head
    assert c.gpus_total == 16 and c.gpus_per_node == 8 and c.gpu_types == ("H100",)
    assert c.nodes[0].gpu_memory_bytes == H100.total_bytes
    data = c.as_json()
    assert data["backend"] == "ray" and data["gpus_total"] == 16
    assert set(data["nodes"][0]) >= {"node_id", "ip", "alive", "gpus", "gpu_type", "gpu_memory_bytes", "cpus", "memory"}  # fmt: skip
    assert c.summary() == "2 nodes x 8 H100 GPUs (16 in all)"


def test_dead_nodes_do_not_count() -> None:
    c = _cluster(
        _ray_node("10.0.0.1", 8, "H100", head=True), _ray_node("10.0.0.2", 8, "H100", alive=False)
    )
    assert c.gpus_total == 8 and "1 dead" in c.summary()
    assert Cluster(backend=None, reason="no head").summary() == "no cluster (no head)"


@pytest.mark.parametrize(
    ("values", "nodes", "gpn", "stage_nodes"),
    [
        ({"tensor_parallel_size": 8, "pipeline_parallel_size": 2}, 2, 8, [(0,), (1,)]),
        ({"tensor_parallel_size": 16}, 2, 8, [(0, 1)]),
        ({"tensor_parallel_size": 4, "pipeline_parallel_size": 4}, 2, 8, [(0,), (0,), (1,), (1,)]),
        ({"tensor_parallel_size": 4, "pipeline_parallel_size": 2}, 4, 4, [(0,), (1,)]),
    ],
)
def test_stages_land_on_nodes_tp_innermost(
    values: dict[str, int], nodes: int, gpn: int, stage_nodes: list[tuple[int, ...]]
) -> None:
    layout = plan_nodes(ServeConfig.build("m", values), nodes, gpn)
    assert [s.nodes for s in layout.stages] == stage_nodes


def test_per_stage_weights_of_405b_on_two_nodes() -> None:
    facts = builtin_facts(LLAMA_405B)
    assert facts is not None
    cfg = ServeConfig.build(LLAMA_405B, {"tensor_parallel_size": 8, "pipeline_parallel_size": 2})
    layout = plan_nodes(cfg, 2, 8, facts, H100)
    assert [s.layers for s in layout.stages] == [63, 63]
    weights = [s.weights_bytes for s in layout.stages]
    assert all(w is not None and 40 * 2**30 < w < 55 * 2**30 for w in weights)
    # 405 B parameters in bf16 over 16 GPUs: about 810 GB / 16 per GPU.
    total = sum(w or 0 for w in weights) * 8
    assert 740e9 < total < 830e9
    data = layout.as_json()
    assert data["missing_gpus"] == 0 and data["per_node"][1]["gpus_used"] == 8


def test_default_layout_is_tp_per_node_pp_nodes() -> None:
    cfg = default_layout(ServeConfig.build("m"), 2, 8)
    assert (cfg.get("tensor_parallel_size"), cfg.get("pipeline_parallel_size")) == (8, 2)
    chosen = ServeConfig.build("m", {"tensor_parallel_size": 4})
    assert default_layout(chosen, 2, 8) == chosen


def _codes(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings}


def test_too_few_gpus_names_the_missing_ones_with_a_fix() -> None:
    cfg = ServeConfig.build(LLAMA_405B, {"tensor_parallel_size": 8, "pipeline_parallel_size": 2})
    found = _codes(multinode_findings(cfg, Context(gpus=(H100,) * 8, extra={"nodes": 1, "gpus_per_node": 8})))  # fmt: skip
    err = found["cluster-gpus"]
    assert err.level == "error"
    assert "8 H100 GPUs missing (1 more node of 8)" in err.message.en
    assert "不足" in err.message.ja
    assert err.fix is not None and dict(err.fix.set) == {"pipeline_parallel_size": 1}
    ok = _codes(multinode_findings(cfg, Context(extra={"nodes": 2, "gpus_per_node": 8})))
    assert "cluster-gpus" not in ok and "tp-across-nodes" not in ok


def test_tp_across_nodes_warns_and_suggests_pp() -> None:
    cfg = ServeConfig.build("org/m", {"tensor_parallel_size": 16})
    warn = _codes(multinode_findings(cfg, Context(extra={"nodes": 2, "gpus_per_node": 8})))["tp-across-nodes"]  # fmt: skip
    assert warn.level == "warning" and warn.fix is not None
    assert dict(warn.fix.set) == {"tensor_parallel_size": 8, "pipeline_parallel_size": 2}


def test_cluster_health_checks() -> None:
    mixed = _cluster(
        _ray_node("10.0.0.1", 8, "H100", head=True, version="0.32.0"),
        _ray_node("10.0.0.2", 4, "A100", version="0.31.0"),
        _ray_node("10.0.0.3", 8, "H100", alive=False),
    )
    cfg = ServeConfig.build("org/m", {"tensor_parallel_size": 4, "pipeline_parallel_size": 2})
    found = _codes(multinode_findings(cfg, Context(extra={"cluster": mixed})))
    assert found["mixed-gpus"].level == "warning"
    assert "A100, H100" in found["mixed-gpus"].message.en
    assert found["dead-nodes"].level == "warning" and "10.0.0.3" in found["dead-nodes"].message.en
    assert found["vllm-version-mismatch"].level == "error"
    assert "0.31.0, 0.32.0" in found["vllm-version-mismatch"].message.en
    same = _cluster(
        _ray_node("10.0.0.1", 8, "H100", head=True, version="0.32.0"),
        _ray_node("10.0.0.2", 8, "H100", version="0.32.0"),
    )
    clean = _codes(multinode_findings(cfg, Context(vllm_version="0.32.0", extra={"cluster": same})))
    assert not {"mixed-gpus", "dead-nodes", "vllm-version-mismatch"} & set(clean)


def test_model_reach_and_network_hints() -> None:
    extra = {"nodes": 2, "gpus_per_node": 8}
    local = _codes(multinode_findings(ServeConfig.build("/data/llama"), Context(extra=extra)))
    assert local["model-path-local"].level == "warning"
    hub = _codes(multinode_findings(ServeConfig.build("org/m"), Context(extra=extra)))
    assert "model-path-local" not in hub and hub["model-weights-each-node"].level == "info"
    assert hub["network-interface"].level == "info" and "multinode-ports" in hub
    with_env = ServeConfig.build("org/m", env={"NCCL_SOCKET_IFNAME": "eth0", "GLOO_SOCKET_IFNAME": "eth0"})  # fmt: skip
    assert "network-interface" not in _codes(multinode_findings(with_env, Context(extra=extra)))
    assert looks_local("./m") and looks_local("/a/b") and not looks_local("org/name")
    one = _codes(multinode_findings(ServeConfig.build("/data/llama"), Context(extra={"nodes": 1, "gpus_per_node": 8})))  # fmt: skip
    assert "model-path-local" not in one


def test_ray_on_the_cpu_build_is_refused_before_launch() -> None:
    cfg = ServeConfig.build("org/m", {"distributed_executor_backend": "ray"})
    err = _codes(multinode_findings(cfg, Context(extra={"device": "cpu"})))["ray-cpu-build"]
    assert err.level == "error" and "does not support ray" in err.message.en
    assert err.fix is not None and err.fix.apply(cfg).get("distributed_executor_backend") is None
    assert ray_refusal(cfg, "cpu") == err.message.en
    assert ray_refusal(cfg, "cuda") is None
    assert ray_refusal(ServeConfig.build("org/m"), "cpu") is None
    result = plan(None, cfg, (), planning=True, device="cpu")
    assert any(f.code == "ray-cpu-build" for f in result.findings)


def test_plan_with_nodes_replaces_the_one_node_gpu_count() -> None:
    facts = builtin_facts(LLAMA_405B)
    cfg = ServeConfig.build(LLAMA_405B, {"tensor_parallel_size": 8, "pipeline_parallel_size": 2})
    fits = plan(facts, cfg, (H100,) * 16, planning=True, nodes=2)
    assert fits.fits and fits.nodes is not None and fits.nodes.missing_gpus == 0
    short = plan(facts, cfg, (H100,) * 8, planning=True, nodes=1)
    codes = [f.code for f in short.findings]
    assert "cluster-gpus" in codes and "gpu-count" not in codes
    assert short.estimate is not None and not short.estimate.fits
    assert "8 H100 GPUs missing" in short.estimate.verdict


@pytest.mark.parametrize(
    ("line", "kind", "fix"),
    [
        ("ValueError: current platform cpu does not support ray.", "ray_cpu_build",
         {"distributed_executor_backend": None}),
        ("ValueError: Cannot provide a placement group requiring 16 GPUs (placement_group_specs="
         "[{'GPU': 1.0}]) within 1800 seconds.", "ray_not_enough_gpus", {}),
        ("ValueError: The number of required GPUs exceeds the total number of available GPUs in "
         "the placement group. Required number of devices: 16. Total number of devices: 8.",
         "ray_not_enough_gpus", {}),
        ("INFO Waiting for creating a placement group of specs for 10 seconds. specs=[...]",
         "ray_waiting_for_gpus", {}),
        ("ray.exceptions.ActorDiedError: The actor died because its node has died. Node Id: ab",
         "ray_node_died", {}),
        ("RuntimeError: Version mismatch: The cluster was started with:", "ray_version_mismatch", {}),
        ("node1:123 [0] misc/socket.cc:484 NCCL WARN Bootstrap : no socket interface found",
         "network_interface", {}),
        ("RuntimeError: [../third_party/gloo/gloo/transport/tcp/pair.cc:144] Connection refused",
         "network_interface", {}),
    ],
)  # fmt: skip
def test_ray_failures_are_diagnosed(line: str, kind: str, fix: dict[str, Any]) -> None:
    d = diagnose(line)
    assert d is not None and d.kind == kind
    assert (dict(d.fix.set) if d.fix else {}) == fix
    assert d.suggestion


def test_waiting_for_the_placement_group_is_not_fatal() -> None:
    d = diagnose("Waiting for creating a placement group of specs for 20 seconds. specs=[]")
    assert d is not None and not d.fatal


def test_bringup_scripts_keep_secrets_in_env() -> None:
    cfg = ServeConfig.build("org/m", env={"HF_TOKEN": "hf_abcdef"})
    for build in (ray_bringup, nodes_bringup):
        text = render_bringup(build(cfg, 3, 4, head="10.0.0.1", ifname="ib0"))
        assert "hf_abcdef" not in text
        assert 'export HF_TOKEN="${HF_TOKEN:?' in text
        assert text.count("export NCCL_SOCKET_IFNAME=ib0") == 3
    shown = render_bringup(ray_bringup(cfg, 2, 4, show_secrets=True))
    assert "hf_abcdef" in shown


def test_ray_bringup_shape() -> None:
    scripts = ray_bringup(ServeConfig.build("org/m"), 3, 4, head="10.0.0.1", port=6380)
    assert [s.role for s in scripts] == ["head", "worker", "worker"]
    assert "ray start --head --port 6380" in scripts[0].script
    assert all("ray start --address 10.0.0.1:6380" in s.script for s in scripts[1:])
    assert scripts[0].serve is not None and scripts[1].serve is None
    serve = list(scripts[0].serve)
    assert serve[serve.index("--tensor-parallel-size") + 1] == "4"
    assert serve[serve.index("--pipeline-parallel-size") + 1] == "3"
    assert serve[serve.index("--distributed-executor-backend") + 1] == "ray"


def test_nodes_bringup_shape() -> None:
    cfg = ServeConfig.build("org/m", {"distributed_executor_backend": "ray"})
    scripts = nodes_bringup(cfg, 2, 8, head="10.0.0.1", port=29600)
    for rank, s in enumerate(scripts):
        assert s.serve is not None
        argv = list(s.serve)
        assert argv[argv.index("--node-rank") + 1] == str(rank)
        assert argv[argv.index("--nnodes") + 1] == "2"
        assert argv[argv.index("--master-addr") + 1] == "10.0.0.1"
        assert argv[argv.index("--master-port") + 1] == "29600"
        assert ("--headless" in argv) is (rank > 0)
        assert "--distributed-executor-backend" not in argv


def test_planning_mode_on_nodes_is_one_call() -> None:
    from tui.core.plan import plan_on_nodes

    facts = builtin_facts(LLAMA_405B)
    cfg = ServeConfig.build(LLAMA_405B, {"tensor_parallel_size": 8, "pipeline_parallel_size": 2})
    result = plan_on_nodes(facts, cfg, H100, 2, 8)
    assert result.planning and result.fits and len(result.gpus) == 16
    assert result.nodes is not None and result.nodes.gpus_per_node == 8
