"""One call that the CLI and the app share: estimate + validation for a config on some GPUs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tui.core.config import ServeConfig
from tui.core.estimate import Estimate, Target, estimate
from tui.core.gpu_catalog import GpuSpec
from tui.core.model_facts import ModelFacts
from tui.core.validate import Context, Finding, validate

#: Findings that mean the input itself is nonsense (not "vLLM would refuse this").
INPUT_ERRORS = frozenset({"utilization-range", "range", "choice"})
#: Validation errors that also make the estimate's verdict "fails".
BLOCKING = frozenset(
    {
        "tp-heads",
        "gpu-count",
        "max-len-too-long",
        "quant-conflict",
        "bf16-unsupported",
        "fp8-kv-unsupported",
        "fp8-unsupported",
        "flag-unknown-to-vllm",
    }
)


@dataclass(frozen=True)
class PlanResult:
    estimate: Estimate | None
    findings: tuple[Finding, ...]
    gpus: tuple[GpuSpec, ...]
    planning: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

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
) -> PlanResult:
    """Validate, then estimate on the smallest of the chosen GPUs (vLLM is limited by it)."""
    ctx = Context(
        facts=facts,
        gpus=gpus,
        num_gpus=len(gpus) if gpus else None,
        vllm_version=vllm_version,
        port_in_use=port_in_use,
        known_options=known_options,
        extra={"free_port": free_port} if free_port else {},
    )
    findings = tuple(validate(cfg, ctx))
    if (
        facts is None
        or not gpus
        or any(f.code in INPUT_ERRORS and f.level == "error" for f in findings)
    ):
        return PlanResult(None, findings, gpus, planning)
    gpu = min(gpus, key=lambda g: g.total_bytes)
    target = Target(
        gpu=gpu,
        num_gpus=len(gpus),
        vllm_version=vllm_version,
        engine=engine,
        entry=entry,
        device=device,
        measured=dict(measured or {}),
    )
    est = estimate(facts, cfg, target)
    blocking = [f for f in findings if f.level == "error" and f.code in BLOCKING]
    if blocking:
        reasons = tuple(f.message.en for f in blocking) + est.reasons
        est = replace(
            est, fits=False, reasons=reasons, verdict="fails: " + reasons[0], state="wont_start"
        )
    return PlanResult(est, findings, gpus, planning)
