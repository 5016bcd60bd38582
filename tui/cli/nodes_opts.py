"""`--nodes N` for `estimate` and `command`: how many nodes, and how many GPUs each has.

GPUs per node come from `--num-gpus` (with `--nodes`, it counts one node's GPUs), else from
the reachable Ray cluster, else from TP x PP x DP spread evenly over the nodes.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.gpu_catalog import GiB
from tui.core.multinode import Cluster, NodePlan

MAX_NODES = 1024


@dataclass(frozen=True)
class NodesChoice:
    nodes: int
    gpus_per_node: int
    cluster: Cluster | None
    source: str

    @property
    def gpus_total(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def gpu_type(self) -> str | None:
        if self.cluster is None or len(self.cluster.gpu_types) != 1:
            return None
        kind = self.cluster.gpu_types[0]
        return None if kind == "unknown" else kind


def _nodes_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nodes {text!r} is not a whole number") from None
    if not 1 <= value <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"--nodes must be between 1 and {MAX_NODES}")
    return value


def add_nodes_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nodes",
        type=_nodes_arg,
        metavar="N",
        help="plan for N nodes (--num-gpus then counts the GPUs of one node)",
    )


def choose_nodes(nodes: int, num_gpus: int | None, cfg: ServeConfig) -> NodesChoice:
    """Nodes and GPUs per node for `--nodes` (the cluster is asked only without --num-gpus)."""
    if num_gpus:
        return NodesChoice(nodes, num_gpus, None, "--num-gpus")
    cluster = _reachable_cluster()
    if cluster is not None and cluster.gpus_per_node:
        return NodesChoice(nodes, cluster.gpus_per_node, cluster, "Ray cluster")
    per = max(1, -(-world_size(cfg) // nodes))
    return NodesChoice(nodes, per, None, "TP x PP x DP over the nodes")


def _reachable_cluster() -> Cluster | None:
    """The Ray cluster at RAY_ADDRESS or started on this machine, if any (never an error)."""
    from tui.adapters.cluster import probe_cluster
    from tui.cli.common import installed_vllm

    install = installed_vllm()
    if install is None:
        return None
    try:
        cluster = probe_cluster(install.python, os.environ.get("RAY_ADDRESS"), timeout=30)
    except UserError as exc:
        print(f"vllm-tui: note: no Ray cluster ({exc})", file=sys.stderr)
        return None
    return cluster if cluster.backend else None


def render_nodes(layout: NodePlan) -> str:
    """The per-node and per-stage lines under a text estimate."""
    lines = [
        "",
        f"nodes: {layout.nodes} x {layout.gpus_per_node} GPUs = {layout.gpus_total}; "
        f"TP {layout.tp} x PP {layout.pp} x DP {layout.dp} = {layout.world_size}"
        + (f"  ({layout.missing_gpus} GPUs missing)" if layout.missing_gpus else ""),
    ]
    for s in layout.stages:
        weights = (
            f", weights {s.weights_bytes / GiB:.2f} GiB per GPU"
            if s.weights_bytes is not None
            else ""
        )
        where = ", ".join(map(str, s.nodes))
        lines.append(
            f"  stage {s.index}: {s.layers} layers on node {where} ({s.gpus} GPUs){weights}"
        )
    return "\n".join(lines)


BRINGUP_FORMATS = ("ray", "nodes")


def add_bringup_options(parser: argparse.ArgumentParser) -> None:
    """`command`'s options for several nodes (`--format ray|nodes`, and `--nodes` for k8s)."""
    group = parser.add_argument_group("several nodes (--format ray | nodes)")
    group.add_argument(
        "--nodes",
        type=_nodes_arg,
        metavar="N",
        help="plan for N nodes (--num-gpus then counts the GPUs of one node)",
    )
    group.add_argument("--num-gpus", type=_gpus_arg, metavar="N", help="GPUs per node")
    group.add_argument(
        "--head-address",
        metavar="IP",
        default="HEAD_IP",
        help="the head node's address the others reach (default: a HEAD_IP placeholder)",
    )
    group.add_argument(
        "--ifname", metavar="IF", help="network interface for NCCL/GLOO (e.g. eth0, ib0)"
    )
    group.add_argument(
        "--bringup-port",
        type=int,
        metavar="P",
        help="ray: the head's Ray port (6379); nodes: --master-port (29500)",
    )


def _gpus_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--num-gpus {text!r} is not a whole number") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError("--num-gpus must be between 1 and 1024")
    return value


def bringup_layout(ns: argparse.Namespace, cfg: ServeConfig) -> NodesChoice | None:
    """The nodes `command` plans for (asked once per run; None without --nodes)."""
    cached = getattr(ns, "_layout", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if ns.format in BRINGUP_FORMATS and not ns.nodes:
        raise UserError(f"--format {ns.format} needs --nodes N")
    if not ns.nodes:
        return None
    layout = choose_nodes(ns.nodes, ns.num_gpus, cfg)
    ns._layout = layout
    return layout


def nodes_extra(ns: argparse.Namespace, cfg: ServeConfig) -> dict[str, object]:
    """Validation context for the multi-node checks."""
    layout = bringup_layout(ns, cfg)
    if layout is None:
        return {}
    extra: dict[str, object] = {"nodes": layout.nodes, "gpus_per_node": layout.gpus_per_node}
    if layout.cluster is not None:
        extra["cluster"] = layout.cluster
    if ns.ifname:
        extra["ifname"] = ns.ifname
    return extra


def nodes_config(ns: argparse.Namespace, cfg: ServeConfig) -> ServeConfig:
    """With --nodes and no layout chosen: TP = GPUs per node, PP = nodes (vLLM's advice)."""
    from tui.core.multinode import default_layout

    layout = bringup_layout(ns, cfg)
    return cfg if layout is None else default_layout(cfg, layout.nodes, layout.gpus_per_node)


def bringup_text(ns: argparse.Namespace, cfg: ServeConfig, version: str | None) -> str:
    from tui.core.commands import nodes_bringup, ray_bringup, render_bringup

    layout = bringup_layout(ns, cfg)
    assert layout is not None
    build = ray_bringup if ns.format == "ray" else nodes_bringup
    options: dict[str, Any] = {"head": ns.head_address, "ifname": ns.ifname}
    if ns.bringup_port:
        options["port"] = ns.bringup_port
    scripts = build(
        cfg,
        layout.nodes,
        layout.gpus_per_node,
        show_secrets=ns.show_secrets,
        version=version,
        **options,
    )
    return render_bringup(scripts)
