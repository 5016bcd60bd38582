"""`--nodes N` for `estimate` and `command`: how many nodes, and how many GPUs each has.

GPUs per node come from `--num-gpus` (with `--nodes`, it counts one node's GPUs), else from
the reachable Ray cluster, else from TP x PP x DP spread evenly over the nodes.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.multinode import Cluster

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
