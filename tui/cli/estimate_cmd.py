"""`vllm-tui estimate`: predict what vLLM will print about memory, before launching anything."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.cli.common import (
    Parser,
    add_config_sources,
    build_config,
    installed_vllm,
    print_json,
    table,
)
from tui.cli.nodes_opts import add_nodes_arg, choose_nodes, render_nodes
from tui.core.bounds import (
    MAX_GPU_GIB,
    MAX_GPUS,
    MIN_GPU_GIB,
    bounded_float,
    bounded_int,
    check_world_size,
    version_arg,
)
from tui.core.catalog.parallel import world_size
from tui.core.errors import UserError
from tui.core.gpu_catalog import GPU_CATALOG, GiB, GpuSpec, custom_gpu, find_gpu
from tui.core.plan import PlanResult, plan


def choose_gpus(
    name: str | None, memory_gib: float | None, num_gpus: int | None, need: int
) -> tuple[tuple[GpuSpec, ...], bool, str]:
    """GPUs to plan for: explicit > detected > remembered planning GPU. Returns (gpus, planning, why)."""
    if name and memory_gib:
        raise UserError("give either --gpu or --gpu-memory-gib, not both")
    if memory_gib is not None:
        if not 0 < memory_gib < 4096:
            raise UserError(f"--gpu-memory-gib {memory_gib:g} is not a plausible GPU size")
        gpu = custom_gpu(memory_gib)
        return (gpu,) * (num_gpus or need), True, "--gpu-memory-gib"
    if name:
        found = find_gpu(name)
        if found is None:
            names = ", ".join(g.name for g in GPU_CATALOG)
            raise UserError(f"unknown GPU {name!r}; known: {names} (or use --gpu-memory-gib)")
        return (found,) * (num_gpus or need), True, "--gpu"
    from tui.adapters import gpus as gpu_adapter
    from tui.adapters.settings import load_settings

    snapshot = gpu_adapter.probe()
    if snapshot.gpus:
        detected = tuple(g.as_spec() for g in snapshot.chosen())
        if num_gpus:
            detected = detected[:num_gpus]
        return detected, False, "detected"
    planning = find_gpu(load_settings().planning_gpu) or find_gpu("H100 80GB")
    assert planning is not None
    return (planning,) * (num_gpus or need), True, f"planning GPU ({snapshot.reason})"


def installed_version() -> str | None:
    """The installed vLLM's version (its rules apply unless --vllm-version says otherwise)."""
    install = installed_vllm()
    return install.version if install else None


def sampler_install(flag: str | None, version: str | None) -> bool | None:
    """Whether the server will have flashinfer: --flashinfer, else the installed GPU build's
    environment when its rules are the ones applied, else unknown (the band spans both)."""
    if flag is not None:
        return flag == "yes"
    install = installed_vllm()
    if install is None or version not in (None, install.version):
        return None
    known: bool | None = install.server_flashinfer
    return known


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui estimate",
        description="Predict weights, activation, KV cache, tokens and concurrency per GPU, as vLLM prints them at startup.",
        usage="vllm-tui estimate MODEL [vllm serve flags] [--gpu NAME | --gpu-memory-gib X] [--num-gpus N] [--vllm-version V] [--json]",
    )
    parser.add_argument(
        "--gpu", metavar="NAME", help="plan for a catalog GPU (e.g. H100, L40S, 'RTX 4090')"
    )
    parser.add_argument(
        "--gpu-memory-gib",
        type=bounded_float("--gpu-memory-gib", MIN_GPU_GIB, MAX_GPU_GIB),
        metavar="X",
        help="plan for a GPU with X GiB total memory",
    )
    parser.add_argument(
        "--num-gpus",
        type=bounded_int("--num-gpus", 1, MAX_GPUS),
        metavar="N",
        help="GPUs available (default: TP x PP x DP)",
    )
    parser.add_argument(
        "--vllm-version",
        type=version_arg("--vllm-version"),
        metavar="V",
        help="apply this vLLM release's rules (default: newest known)",
    )
    parser.add_argument(
        "--engine", choices=("v0", "v1", "V0", "V1"), help="force the V0 or V1 engine rules"
    )
    parser.add_argument(
        "--entry",
        choices=("serve", "llm"),
        default="serve",
        help="OpenAI server (default) or the LLM class",
    )
    parser.add_argument(
        "--flashinfer",
        choices=("yes", "no"),
        help="the server's environment has flashinfer (decides the sampler's memory on vLLM "
        "0.9-0.11.0; default: what the installed GPU build has, else unknown)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    add_nodes_arg(parser)
    add_config_sources(parser)
    ns, rest = parser.parse_known_args(list(argv))
    if ns.num_gpus is not None and ns.num_gpus < 1:
        raise UserError("--num-gpus must be at least 1")
    cfg = build_config(ns, rest)
    from tui.adapters.model_source import resolve_model

    facts = resolve_model(cfg.model)
    need = world_size(cfg)
    check_world_size(need)
    layout = choose_nodes(ns.nodes, ns.num_gpus, cfg) if ns.nodes else None
    gpus, planning, why = choose_gpus(
        ns.gpu or (layout.gpu_type if layout and not ns.gpu_memory_gib else None),
        ns.gpu_memory_gib,
        layout.gpus_total if layout else ns.num_gpus,
        need,
    )
    result = plan(
        facts,
        cfg,
        gpus,
        planning=planning,
        vllm_version=ns.vllm_version or installed_version(),
        engine=ns.engine,
        entry=ns.entry,
        nodes=ns.nodes,
        cluster=layout.cluster if layout else None,
        flashinfer=sampler_install(ns.flashinfer, ns.vllm_version),
    )
    if result.input_errors:
        raise UserError("; ".join(f.message.en for f in result.input_errors))
    assert result.estimate is not None
    if ns.json:
        data = result.estimate.as_json()
        data["gpu_source"] = why
        data["model_source"] = facts.source
        data["findings"] = [f.as_json() for f in result.findings]
        data["notes"] = list(facts.notes) + data["notes"]  # type: ignore[operator]
        if result.nodes is not None:
            data["nodes"] = result.nodes.as_json() | {
                "gpus_per_node_source": layout and layout.source
            }
        print_json(data)
        return 0
    print(render(result, facts.source, why) + (render_nodes(result.nodes) if result.nodes else ""))
    return 0


def render(result: PlanResult, model_source: str, gpu_source: str) -> str:
    est = result.estimate
    assert est is not None

    def g(b: float) -> str:
        return f"{b / GiB:6.2f} GiB"

    head = (
        f"{est.model}  on {est.num_gpus} x {est.gpu} ({est.total_bytes / GiB:.1f} GiB, {gpu_source})\n"
        f"vLLM {est.vllm_version or 'newest known (none installed)'} rules ({est.engine}); model facts from {model_source}"
    )
    rows = [
        [
            "budget",
            g(est.budget_bytes),
            f"{est.budget_bytes / est.total_bytes:.2f} x total memory  [vLLM's arithmetic]",
        ],
    ]
    for term in est.terms:
        band = (
            f" (band {term.low / GiB:.2f}..{term.high / GiB:.2f})" if term.low != term.high else ""
        )
        rows.append([term.label, g(term.value), f"{term.basis}{band}  [{term.provenance_label}]"])
    kv = est.kv
    lo, hi = est.kv_low.tokens, est.kv_high.tokens
    rows += [
        [
            "KV per token",
            f"{kv.bytes_per_token / 1024:6.1f} KiB",
            f"per GPU, {est.kv_element_bytes:g} byte(s) per element, block {kv.block_size}",
        ],
        ["KV tokens", f"{kv.tokens:>10,}", f"band {lo:,} .. {hi:,}"],
        ["concurrency", f"{kv.max_concurrency:9.2f}x", f"requests of {est.max_model_len:,} tokens"],
        ["max fitting len", f"{kv.max_fitting_len:>10,}", "largest --max-model-len whose KV fits"],
    ]
    mark = {"starts": "OK  ", "borderline": "??  "}.get(est.state, "NO  ")
    lines = [head, "", table(rows), "", mark + est.verdict]
    for f in result.findings:
        lines.append(f"{f.level}: {f.message.en}")
    if est.notes:
        lines.append("")
        lines += [f"note: {n}" for n in est.notes]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main("estimate", sys.argv[1:]))
