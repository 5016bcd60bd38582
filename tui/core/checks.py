"""What the Checks panel lists: the validation findings, plus what the rest of the screen
says is wrong (the VRAM verdict, text typed into a field that does not parse), so the
Checks never say "no problems" while another panel shows one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tui.core.catalog import t
from tui.core.catalog.parallel import world_size
from tui.core.config import ServeConfig
from tui.core.estimate_text import bilingual
from tui.core.fix import Fix
from tui.core.gpu_catalog import GiB
from tui.core.model_facts import ModelFacts
from tui.core.plan import BLOCKING, PlanResult
from tui.core.validate import (
    LEVEL_ORDER,
    Finding,
    choice_findings,
    port_findings,
    valid_tp_sizes,
)


def screen_findings(
    result: PlanResult,
    input_errors: Mapping[str, str],
    cfg: ServeConfig | None = None,
    facts: ModelFacts | None = None,
    installed_choices: Mapping[str, Sequence[str]] | None = None,
    busy_port: tuple[int, int | None] | None = None,
) -> tuple[Finding, ...]:
    """`result`'s findings with the fields' input errors ({flag: message}), values outside
    the installed vLLM's choices, idle planned GPUs and a failing VRAM verdict added,
    errors first. `busy_port` is (port, a free one) when the port was found in use."""
    out = [
        Finding(
            "error",
            "input",
            (flag,),
            t(message, f"入力値を読めません（コマンドには入りません）: {message}"),
        )
        for flag, message in sorted(input_errors.items())
    ]
    out += result.findings
    if cfg is not None and installed_choices:
        known = {f.flags for f in out if f.code == "choice"}
        out += [f for f in choice_findings(cfg, installed_choices) if f.flags not in known]
    if cfg is not None and facts is not None:
        out += _idle_gpus(result, cfg, facts)
    if (
        cfg is not None
        and busy_port is not None
        and busy_port[0] == cfg.get("port")
        and all(f.code != "port-in-use" for f in out)
    ):
        out += port_findings(cfg, busy_port[1])
    verdict = _verdict_finding(result)
    if verdict is not None:
        out.append(verdict)
    return tuple(sorted(out, key=lambda f: LEVEL_ORDER[f.level]))


def _idle_gpus(result: PlanResult, cfg: ServeConfig, facts: ModelFacts) -> list[Finding]:
    """Planning N GPUs while TP x PP x DP uses fewer: the weights stay on one GPU."""
    gpus = len(result.gpus)
    tp, pp, dp = (
        int(cfg.get(k) or 1)
        for k in ("tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size")
    )
    if not result.planning or gpus <= world_size(cfg):
        return []
    if result.nodes is not None and result.nodes.nodes > 1:
        return []  # the plan's own "nodes-idle" (multinode_checks) says it per node
    best = max(valid_tp_sizes(facts, gpus // (pp * dp)) or [1])
    if best <= tp:
        return []
    per_gpu = ""
    per_gpu_ja = ""
    if result.estimate is not None:
        weights = result.estimate.term("weights").value / GiB
        per_gpu = f" With TP {best} each GPU holds ~{weights * tp / best:.1f} GiB of weights instead of {weights:.1f}."
        per_gpu_ja = f"TP {best} なら GPU 1 枚あたりの重みは {weights:.1f} GiB から約 {weights * tp / best:.1f} GiB になります。"
    return [
        Finding(
            "warning",
            "gpus-idle",
            ("--tensor-parallel-size",),
            t(
                f"{gpus} GPUs planned but TP x PP x DP = {tp * pp * dp}: the others stay idle.{per_gpu}",
                f"GPU を {gpus} 枚計画していますが TP × PP × DP = {tp * pp * dp} のため、残りは使われません。{per_gpu_ja}",
            ),
            Fix(
                t(f"Use --tensor-parallel-size {best}", f"--tensor-parallel-size {best} を使う"),
                (("tensor_parallel_size", best),),
            ),
        )
    ]


def _verdict_finding(result: PlanResult) -> Finding | None:
    est = result.estimate
    if est is None or est.fits:
        return None
    if any(f.level == "error" and f.code in BLOCKING for f in result.findings):
        return None  # that error already says why it will not start
    fix = None
    fitting = est.kv.max_fitting_len
    if 0 < fitting < est.max_model_len:
        length = fitting // 1024 * 1024 or fitting
        fix = Fix(
            t(f"Set --max-model-len {length}", f"--max-model-len を {length} に設定"),
            (("max_model_len", length),),
        )
    return Finding(
        "error",
        "vram-fails",
        ("--gpu-memory-utilization", "--max-model-len"),
        t(f"VRAM: {est.verdict}", f"VRAM: {bilingual(est.verdict).ja}"),
        fix,
    )
