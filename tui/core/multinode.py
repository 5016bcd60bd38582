"""Several nodes: what a Ray cluster holds, and how TP x PP x DP lands on its nodes.

vLLM numbers the ranks of one replica TP-innermost, then PP, then DP, and places them on the
nodes in that order (Ray's placement group packs a node's GPUs before the next node), so with
8 GPUs per node `-tp 8 -pp 2` puts stage 0 on node 0 and stage 1 on node 1. This module is
pure: the adapter (tui/adapters/cluster.py) turns Ray's node records into a `Cluster`; the
estimator's per-stage weights come from tui/core/weights.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.catalog import Text, t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.gpu_catalog import GiB, GpuSpec, custom_gpu, find_gpu
from tui.core.model_facts import ModelFacts

#: Ray's resource key prefix for the accelerator type a node declares (`--resources` or detected).
ACCELERATOR_PREFIX = "accelerator_type:"


@dataclass(frozen=True)
class ClusterNode:
    """One node of a cluster as Ray reports it (GPU memory from our catalog of the type)."""

    node_id: str
    ip: str
    alive: bool
    gpus: int
    gpu_type: str | None
    gpu_memory_bytes: int | None
    cpus: float | None = None
    memory_bytes: int | None = None
    is_head: bool = False
    vllm_version: str | None = None
    """vLLM in the Python that runs this node's Ray workers (None = not asked / unknown)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "ip": self.ip,
            "alive": self.alive,
            "gpus": self.gpus,
            "gpu_type": self.gpu_type,
            "gpu_memory_bytes": self.gpu_memory_bytes,
            "cpus": self.cpus,
            "memory": self.memory_bytes,
            "is_head": self.is_head,
            "vllm_version": self.vllm_version,
        }

    def gpu_spec(self) -> GpuSpec | None:
        if self.gpu_type is None:
            return None
        found = find_gpu(self.gpu_type)
        if found is not None:
            return found
        if self.gpu_memory_bytes:
            return custom_gpu(self.gpu_memory_bytes / GiB, self.gpu_type)
        return None


@dataclass(frozen=True)
class Cluster:
    """A multi-node backend and its nodes; `backend` None means no cluster (see `reason`)."""

    backend: str | None
    nodes: tuple[ClusterNode, ...] = ()
    address: str | None = None
    reason: str | None = None
    ray_version: str | None = None

    @property
    def alive(self) -> tuple[ClusterNode, ...]:
        return tuple(n for n in self.nodes if n.alive)

    @property
    def gpus_total(self) -> int:
        return sum(n.gpus for n in self.alive)

    @property
    def gpus_per_node(self) -> int:
        """GPUs of the smallest alive node that has any (vLLM's layout wants them equal)."""
        counts = [n.gpus for n in self.alive if n.gpus]
        return min(counts) if counts else 0

    @property
    def gpu_types(self) -> tuple[str, ...]:
        return tuple(sorted({n.gpu_type or "unknown" for n in self.alive if n.gpus}))

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "address": self.address,
            "reason": self.reason,
            "ray_version": self.ray_version,
            "nodes": [n.as_json() for n in self.nodes],
            "gpus_total": self.gpus_total,
        }

    def summary(self) -> str:
        """One line for the GPU panel: '2 nodes x 4 H100 (8 GPUs), Ray 2.60.0'."""
        if self.backend is None:
            return f"no cluster ({self.reason})" if self.reason else "no cluster"
        alive = self.alive
        per = sorted({n.gpus for n in alive})
        per_text = "/".join(map(str, per)) or "0"
        types = ", ".join(self.gpu_types) or "no"
        dead = len(self.nodes) - len(alive)
        return (
            f"{len(alive)} node{'s' if len(alive) != 1 else ''} x {per_text} {types} GPUs "
            f"({self.gpus_total} in all)" + (f", {dead} dead" if dead else "")
        )

    def summary_text(self) -> Text:
        """The same line in both languages (the GPU panel's cluster line)."""
        if self.backend is None:
            return t(
                self.summary(), f"クラスタなし（{self.reason}）" if self.reason else "クラスタなし"
            )
        alive = self.alive
        per = "/".join(map(str, sorted({n.gpus for n in alive}))) or "0"
        types = ", ".join(self.gpu_types) or "no"
        dead = len(self.nodes) - len(alive)
        return t(
            f"Ray cluster: {self.summary()}",
            f"Ray クラスタ: {len(alive)} ノード × {types} GPU {per} 枚（計 {self.gpus_total} 枚）"
            + (f"、停止 {dead} ノード" if dead else ""),
        )


def node_from_ray(raw: Mapping[str, Any]) -> ClusterNode:
    """A `ray.nodes()` record -> ClusterNode (GPU memory from the accelerator type)."""
    resources = raw.get("Resources") or {}
    types = [k[len(ACCELERATOR_PREFIX) :] for k in resources if k.startswith(ACCELERATOR_PREFIX)]
    labels = raw.get("Labels") or {}
    gpu_type = types[0] if types else labels.get("ray.io/accelerator-type") or None
    spec = find_gpu(gpu_type) if gpu_type else None
    cpus = resources.get("CPU")
    memory = resources.get("memory")
    return ClusterNode(
        node_id=str(raw.get("NodeID", "")),
        ip=str(raw.get("NodeManagerAddress", "")),
        alive=bool(raw.get("Alive", False)),
        gpus=int(resources.get("GPU", 0) or 0),
        gpu_type=gpu_type,
        gpu_memory_bytes=spec.total_bytes if spec else None,
        cpus=float(cpus) if cpus is not None else None,
        memory_bytes=int(memory) if memory is not None else None,
        is_head="node:__internal_head__" in resources,
        vllm_version=raw.get("vllm_version"),
    )


def cluster_from_ray(data: Mapping[str, Any]) -> Cluster:
    """The adapter's JSON (`{"nodes": [...], "address", "ray_version"}`) -> Cluster."""
    nodes = tuple(
        sorted(
            (node_from_ray(n) for n in data.get("nodes") or ()),
            key=lambda n: (not n.is_head, n.ip, n.node_id),
        )
    )
    return Cluster(
        backend="ray",
        nodes=nodes,
        address=data.get("address"),
        ray_version=data.get("ray_version"),
    )


# -- how a config is laid out on nodes ----------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One pipeline stage of the first replica: its layers, nodes and weights per GPU."""

    index: int
    layers: int
    nodes: tuple[int, ...]
    gpus: int
    weights_bytes: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.index,
            "layers": self.layers,
            "nodes": list(self.nodes),
            "gpus": self.gpus,
            "weights_gib_per_gpu": None
            if self.weights_bytes is None
            else round(self.weights_bytes / GiB, 3),
        }


@dataclass(frozen=True)
class NodePlan:
    """TP x PP x DP over `nodes` nodes of `gpus_per_node` GPUs each."""

    nodes: int
    gpus_per_node: int
    tp: int
    pp: int
    dp: int
    stages: tuple[Stage, ...]
    gpu: str | None = None

    @property
    def world_size(self) -> int:
        return self.tp * self.pp * self.dp

    @property
    def gpus_total(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def missing_gpus(self) -> int:
        return max(0, self.world_size - self.gpus_total)

    @property
    def nodes_needed(self) -> int:
        return math.ceil(self.world_size / self.gpus_per_node) if self.gpus_per_node else 0

    @property
    def tp_spans_nodes(self) -> bool:
        return self.tp > self.gpus_per_node

    def gpus_used_on(self, node: int) -> int:
        used = self.world_size - node * self.gpus_per_node
        return max(0, min(self.gpus_per_node, used))

    def as_json(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "gpus_per_node": self.gpus_per_node,
            "gpus_total": self.gpus_total,
            "gpu": self.gpu,
            "tensor_parallel_size": self.tp,
            "pipeline_parallel_size": self.pp,
            "data_parallel_size": self.dp,
            "world_size": self.world_size,
            "missing_gpus": self.missing_gpus,
            "nodes_needed": self.nodes_needed,
            "per_node": [
                {"node": i, "gpus_used": self.gpus_used_on(i), "gpus": self.gpus_per_node}
                for i in range(self.nodes)
            ],
            "per_stage": [s.as_json() for s in self.stages],
        }


def node_of_rank(rank: int, gpus_per_node: int) -> int:
    return rank // gpus_per_node if gpus_per_node else 0


def plan_nodes(
    cfg: ServeConfig,
    nodes: int,
    gpus_per_node: int,
    facts: ModelFacts | None = None,
    gpu: GpuSpec | None = None,
) -> NodePlan:
    """Where each pipeline stage of the first replica lives, and its weights per GPU."""
    tp = int(cfg.get("tensor_parallel_size") or 1)
    pp = int(cfg.get("pipeline_parallel_size") or 1)
    dp = world_size(cfg) // (tp * pp)
    weights = _stage_weights(facts, cfg, gpu, tp, pp, dp) if facts and gpu else None
    layers = _layers(facts, pp)
    stages = tuple(
        Stage(
            index=s,
            layers=layers[s],
            nodes=tuple(sorted({node_of_rank(s * tp + j, gpus_per_node) for j in range(tp)})),
            gpus=tp,
            weights_bytes=weights[s] if weights else None,
        )
        for s in range(pp)
    )
    return NodePlan(nodes, gpus_per_node, tp, pp, dp, stages, gpu.name if gpu else None)


def _layers(facts: ModelFacts | None, pp: int) -> list[int]:
    from tui.core.weights import pp_layer_counts

    if facts is None or facts.num_layers < pp:
        return [0] * pp
    return pp_layer_counts(facts.num_layers, pp)


def _stage_weights(
    facts: ModelFacts, cfg: ServeConfig, gpu: GpuSpec, tp: int, pp: int, dp: int
) -> list[float] | None:
    """Weights per GPU of each stage, from the architecture (as the estimator models them)."""
    from tui.core.estimate import model_dtype
    from tui.core.model_facts import DTYPE_BYTES
    from tui.core.weights import stage_weights, weight_plan

    if facts.num_layers < pp:
        return None
    dtype, _ = model_dtype(facts, cfg, gpu)
    plan = weight_plan(facts, dtype, cfg.get("quantization"))
    stages = stage_weights(
        facts,
        plan,
        tp=tp,
        pp=pp,
        dp=dp,
        expert_parallel=bool(cfg.get("enable_expert_parallel")),
        rope_bytes=int(DTYPE_BYTES.get(dtype, 2)),
    )
    return [s.total for s in stages]


def gpus_for(nodes: int, gpus_per_node: int, gpu: GpuSpec) -> tuple[GpuSpec, ...]:
    """The cluster's GPUs as one list for the single-node estimator (smallest governs)."""
    return (gpu,) * (nodes * gpus_per_node)


def default_layout(cfg: ServeConfig, nodes: int, gpus_per_node: int) -> ServeConfig:
    """vLLM's recommended layout when the user chose none: TP = GPUs per node, PP = nodes."""
    if world_size(cfg) > 1 or nodes < 2:
        return cfg
    return cfg.update({"tensor_parallel_size": gpus_per_node, "pipeline_parallel_size": nodes})


def smallest_node_gpu(nodes: Sequence[ClusterNode]) -> GpuSpec | None:
    specs = [s for s in (n.gpu_spec() for n in nodes if n.alive and n.gpus) if s is not None]
    return min(specs, key=lambda g: g.total_bytes) if specs else None
