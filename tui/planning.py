"""The plan the configure screen shows: the target GPUs (detected or planned) and the
memoised `core.plan` result for the app's current config. Plain functions over the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GPU catalog loads with the first plan, after the first frame
    from tui.app import VllmTuiApp
    from tui.core.gpu_catalog import GpuSpec
    from tui.core.plan import PlanResult


def target_gpus(app: VllmTuiApp) -> tuple[tuple[GpuSpec, ...], bool]:
    """(the GPUs the plan is for, whether they are planned rather than detected)."""
    snap = app.snapshot
    if snap is not None and snap.visible_gpus():
        return tuple(g.as_spec() for g in snap.chosen(app.chosen or None)), False
    from tui.core.gpu_catalog import find_gpu

    gpu = find_gpu(app.planning_gpu) or find_gpu("H100 80GB")
    assert gpu is not None
    cfg = app.config
    need = (
        int(cfg.get("tensor_parallel_size") or 1)
        * int(cfg.get("pipeline_parallel_size") or 1)
        * int(cfg.get("data_parallel_size") or 1)
    )
    nodes = planned_nodes(app)
    per_node = app.planning_count or -(-need // nodes)
    return (gpu,) * (per_node * nodes), True


def planned_nodes(app: VllmTuiApp) -> int:
    """Nodes of the planned cluster (1 when GPUs are detected here: the plan is this box)."""
    snap = app.snapshot
    if snap is not None and snap.visible_gpus():
        return 1
    return max(1, app.planning_nodes)


def current_plan(app: VllmTuiApp) -> PlanResult:
    # The estimator loads here, after the first frame (the configure screen asks for its
    # first plan once that frame is on screen).
    from tui.core.plan import PlanResult, plan

    gpus, planning = target_gpus(app)
    nodes = planned_nodes(app)
    version = app.install.version if app.install else None
    # The rules follow the target: a GPU box (detected or planned), even when the vLLM
    # installed here is the CPU build.
    device = "cuda"
    from tui.adapters.local_paths import missing_local_paths

    missing = missing_local_paths(app.config)
    flashinfer = app.install.server_flashinfer if app.install else None
    key = (app.config, app.facts, gpus, version, app.known_options, device, missing, nodes,
           flashinfer)  # fmt: skip
    if app._plan_cache is not None and app._plan_cache[0] == key:
        return app._plan_cache[1]
    measured = {}
    if gpus and app.facts is not None:
        from tui.adapters.calibration import lookup

        measured = lookup(gpus[0].name, app.config, version)
    result = plan(app.facts, app.config, gpus, planning=planning, vllm_version=version, known_options=app.known_options,
                  measured=measured, device=device, missing_paths=missing, flashinfer=flashinfer,
                  nodes=nodes if nodes > 1 else None)  # fmt: skip
    if app.facts is None:
        result = PlanResult(None, result.findings, gpus, planning, nodes=result.nodes)
    app._plan_cache = (key, result)
    return result


def node_layout(plan: PlanResult) -> tuple[int, int]:
    """(nodes, GPUs per node) of a plan over several nodes; (1, 0) for one machine."""
    if plan.nodes is None or plan.nodes.nodes < 2:
        return 1, 0
    return plan.nodes.nodes, plan.nodes.gpus_per_node


def header_subtitle(app: VllmTuiApp, result: PlanResult) -> str:
    gpus = result.gpus
    where = f"{len(gpus)} x {gpus[0].name}" if gpus else app.t("no GPU", "GPU なし")
    if result.nodes is not None and gpus:
        nodes = planned_nodes(app)
        where = app.t(
            f"{nodes} nodes x {len(gpus) // nodes} {gpus[0].name}",
            f"{nodes} ノード x {len(gpus) // nodes} 枚の {gpus[0].name}",
        )
    mode = app.t("planning", "計画モード") if result.planning else app.t("detected", "検出済み")
    vllm = (
        f"vLLM {app.install.version}"
        if app.install
        else app.t("no vLLM (planning only)", "vLLM なし（計画のみ）")
    )
    return f"{app.config.model} · {where} ({mode}) · {vllm}"
