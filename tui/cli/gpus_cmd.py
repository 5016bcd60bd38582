"""`vllm-tui gpus`: detected GPUs (NVML), their processes, topology and host memory."""

from __future__ import annotations

from collections.abc import Sequence

from tui.cli.common import Parser, print_json, table
from tui.core.gpu_catalog import GiB


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui gpus", description="Show the GPUs vLLM could use and the host's memory."
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    ns = parser.parse_args(list(argv))
    from tui.adapters.gpus import probe

    snap = probe()
    if ns.json:
        print_json(snap.as_json())
        return 0
    h = snap.host
    ram = (
        f"{(h.ram_available_bytes or 0) / GiB:.1f}/{(h.ram_total_bytes or 0) / GiB:.1f} GiB free"
        if h.ram_total_bytes
        else "unknown"
    )
    print(f"host: {h.cpus or '?'} CPUs, RAM {ram}")
    if snap.nvml != "ok":
        print(f"GPUs: none ({snap.reason}) -> planning mode")
        return 0
    print(f"driver {snap.driver_version or '?'}, CUDA {snap.cuda_version or '?'}")
    rows = []
    for g in snap.gpus:
        mem = (
            f"{(g.memory_used_bytes or 0) / GiB:.1f}/{(g.memory_total_bytes or 0) / GiB:.1f} GiB"
            if g.memory_total_bytes
            else "?"
        )
        cc = ".".join(map(str, g.compute_capability)) if g.compute_capability else "?"
        procs = ", ".join(
            f"{p.name or p.pid}({(p.used_bytes or 0) / GiB:.1f}G{'' if p.mine in (True, None) else ' other user'})"
            for p in g.processes
        )
        rows.append(
            [
                str(g.index) if g.mig_parent is None else f"  {g.key[:16]}",
                g.name,
                mem,
                cc,
                f"{g.utilization_pct}%" if g.utilization_pct is not None else "-",
                procs or "-",
            ]
        )
    print(table(rows, ["#", "name", "used/total", "cc", "util", "processes"]))
    for (a, b), kind in sorted(snap.links.items()):
        print(f"link {a}<->{b}: {kind}")
    if snap.visible is not None:
        print(f"CUDA_VISIBLE_DEVICES={','.join(snap.visible)}")
    return 0
