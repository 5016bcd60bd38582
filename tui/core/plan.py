"""One call that the CLI and the app share: estimate + validation for a config on some GPUs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tui.core.catalog import CATALOG
from tui.core.config import ServeConfig
from tui.core.estimate import Estimate, Target, estimate
from tui.core.gpu_catalog import GpuSpec
from tui.core.model_facts import ModelFacts
from tui.core.multinode import Cluster, NodePlan, plan_nodes
from tui.core.validate import Context, Finding, validate

#: Findings that mean the input itself is nonsense (not "vLLM would refuse this").
INPUT_ERRORS = frozenset({"utilization-range", "range", "choice"})
#: Codes that block a launch whatever flag they concern; the rest are declared on the flags
#: (`FlagSpec.blocks_launch`), so a new rule about one flag is registered where the flag is.
GENERAL_BLOCKING = frozenset({"flag-unknown-to-vllm", "vllm-version-mismatch", "path-missing"})


def blocking_codes() -> frozenset[str]:
    """Validation errors that also make the estimate's verdict "fails" (read from the catalog
    at call time, so a flag declared with `blocks_launch` needs nothing else)."""
    return GENERAL_BLOCKING | frozenset(code for s in CATALOG for code in s.blocks_launch)


#: The same, as the catalog declares it at import (for `code in BLOCKING` callers).
BLOCKING = blocking_codes()


@dataclass(frozen=True)
class PlanResult:
    estimate: Estimate | None
    findings: tuple[Finding, ...]
    gpus: tuple[GpuSpec, ...]
    planning: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    nodes: NodePlan | None = None
    """How the config lands on several nodes (None for a one-node plan)."""

    @property
    def input_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error" and f.code in INPUT_ERRORS]

    @property
    def fits(self) -> bool:
        return self.estimate is not None and self.estimate.fits


def plan(
    facts: ModelFacts | None,
    cfg: ServeConfig,
    gpus: tuple[GpuSpec, ...],
    *,
    planning: bool,
    vllm_version: str | None = None,
    engine: str | None = None,
    entry: str = "serve",
    device: str = "cuda",
    measured: Mapping[str, float] | None = None,
    port_in_use: bool | None = None,
    known_options: frozenset[str] | None = None,
    free_port: int | None = None,
    nodes: int | None = None,
    cluster: Cluster | None = None,
    model_is_local: bool | None = None,
    missing_paths: tuple[tuple[str, str], ...] = (),
    flashinfer: bool | None = None,
) -> PlanResult:
    """Validate, then estimate on the smallest of the chosen GPUs (vLLM is limited by it).

    With `nodes`, `gpus` are all the cluster's GPUs (nodes x GPUs per node) and the result
    carries the per-node/per-stage layout; the cluster's checks replace the one-node count.
    """
    extra: dict[str, object] = {"free_port": free_port} if free_port else {}
    extra["device"] = device
    if nodes:
        extra |= {"nodes": nodes, "gpus_per_node": len(gpus) // nodes if gpus else 0}
    if cluster is not None:
        extra["cluster"] = cluster
    if model_is_local is not None:
        extra["model_is_local"] = model_is_local
    if missing_paths:
        extra["missing_paths"] = missing_paths
    ctx = Context(
        facts=facts,
        gpus=gpus,
        num_gpus=len(gpus) if gpus else None,
        vllm_version=vllm_version,
        port_in_use=port_in_use,
        known_options=known_options,
        extra=extra,
    )
    findings = tuple(validate(cfg, ctx))
    if nodes:  # "cluster-gpus" says the same per node, naming what is missing
        findings = tuple(f for f in findings if f.code != "gpu-count")
    layout = _layout(facts, cfg, gpus, nodes)
    if (
        facts is None
        or not gpus
        or any(f.code in INPUT_ERRORS and f.level == "error" for f in findings)
    ):
        return PlanResult(None, findings, gpus, planning, nodes=layout)
    gpu = min(gpus, key=lambda g: g.total_bytes)
    frees = [g.free_bytes for g in gpus if g.free_bytes is not None]
    if len(frees) == len(gpus):  # vLLM checks every worker's free memory at startup
        gpu = replace(gpu, free_bytes=min(frees))
    target = Target(
        gpu=gpu,
        num_gpus=len(gpus),
        vllm_version=vllm_version,
        engine=engine,
        entry=entry,
        device=device,
        measured=dict(measured or {}),
        flashinfer=flashinfer,
    )
    est = estimate(facts, cfg, target)
    codes = blocking_codes()
    blocking = [f for f in findings if f.level == "error" and f.code in codes]
    if blocking:
        reasons = tuple(f.message.en for f in blocking) + est.reasons
        est = replace(
            est, fits=False, reasons=reasons, verdict="fails: " + reasons[0], state="wont_start"
        )
    return PlanResult(est, findings, gpus, planning, nodes=layout)


def _layout(
    facts: ModelFacts | None, cfg: ServeConfig, gpus: tuple[GpuSpec, ...], nodes: int | None
) -> NodePlan | None:
    if not nodes or not gpus:
        return None
    gpu = min(gpus, key=lambda g: g.total_bytes)
    return plan_nodes(cfg, nodes, len(gpus) // nodes, facts, gpu)


def plan_on_nodes(
    facts: ModelFacts | None,
    cfg: ServeConfig,
    gpu: GpuSpec,
    nodes: int,
    gpus_per_node: int,
    *,
    cluster: Cluster | None = None,
    **kwargs: Any,
) -> PlanResult:
    """The app's planning mode over several nodes: `nodes` x `gpus_per_node` of `gpu`."""
    from tui.core.multinode import gpus_for

    gpus = gpus_for(nodes, gpus_per_node, gpu)
    return plan(facts, cfg, gpus, planning=True, nodes=nodes, cluster=cluster, **kwargs)
