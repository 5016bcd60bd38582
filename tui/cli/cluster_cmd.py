"""`vllm-tui cluster`: a Ray cluster's nodes with their GPUs, CPUs, memory and liveness.

Ray is asked in vLLM's own interpreter (`--vllm PY`, else the vLLM this machine would
launch); with no cluster it says why and exits 0, with an unreachable `--address` it exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.cli.common import Parser, installed_vllm, print_json, table
from tui.core.errors import UserError
from tui.core.gpu_catalog import GiB


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui cluster",
        description="List a Ray cluster's nodes and GPUs (RAY_ADDRESS, --address or a local head).",
    )
    parser.add_argument("--address", metavar="ADDR", help="Ray head, e.g. 10.0.0.1:6379")
    parser.add_argument(
        "--vllm", metavar="PY", help="vLLM's python or vllm executable (Ray is read there)"
    )
    parser.add_argument(
        "--no-versions",
        action="store_true",
        help="do not ask each node for its vLLM version (faster)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    ns = parser.parse_args(list(argv))
    install = installed_vllm(ns.vllm)
    if install is None:
        raise UserError("no vLLM found to ask Ray from; give --vllm PATH")
    from tui.adapters.cluster import probe_cluster

    cluster = probe_cluster(install.python, ns.address, versions=not ns.no_versions)
    if ns.json:
        print_json(cluster.as_json())
        return 0
    if cluster.backend is None:
        print(f"no Ray cluster: {cluster.reason}")
        return 0
    print(f"Ray {cluster.ray_version} at {cluster.address}: {cluster.summary()}")
    rows = [
        [
            n.ip + (" (head)" if n.is_head else ""),
            "alive" if n.alive else "dead",
            str(n.gpus),
            n.gpu_type or "-",
            f"{n.gpu_memory_bytes / GiB:.1f} GiB" if n.gpu_memory_bytes else "-",
            f"{n.cpus:g}" if n.cpus is not None else "-",
            f"{n.memory_bytes / GiB:.1f} GiB" if n.memory_bytes else "-",
            n.vllm_version or "-",
        ]
        for n in cluster.nodes
    ]
    print(table(rows, ["node", "state", "GPUs", "type", "GPU memory", "CPUs", "RAM", "vLLM"]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main("cluster", sys.argv[1:]))
