"""Planning over several nodes in the app (issue #13): the GPU panel's node count, the plan
and checks per node, the Ray bring-up in the command pane (what Ctrl+Y copies) and in F3."""

from __future__ import annotations

from textual.widgets import Select

from tui.adapters.settings import load_settings
from tui.app import make_app
from tui.widgets.command_preview import CommandPreview
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.gpu_panel import GpuPanel

from .app_helpers import planning_services, settle

MODEL = "meta-llama/Llama-3.1-70B-Instruct"


def preview(app) -> str:
    return str(app.screen.query_one(CommandPreview).render())


async def test_two_nodes_planned_show_the_bring_up_that_the_checks_and_estimate_agree_with():
    app = make_app(services=planning_services(), model=MODEL)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        panel = app.screen.query_one(GpuPanel)
        panel.query_one("#count", Select).value = 4
        await pilot.pause()
        panel = app.screen.query_one(GpuPanel)
        panel.query_one("#nodes", Select).value = 2
        await pilot.pause()
        await pilot.pause()
        assert (app.planning_count, app.planning_nodes) == (4, 2)
        assert load_settings().planning_nodes == 2  # remembered

        plan = app.current_plan()
        assert len(plan.gpus) == 8 and plan.nodes is not None and plan.nodes.nodes == 2
        # TP x PP = 1 on 2 x 4 GPUs: a check offers the usual layout; the command says why
        # there is no bring-up yet instead of showing one that disagrees with the estimate.
        findings = app.screen.query_one(FindingsPanel).findings
        idle = [f for f in findings if f.code == "nodes-idle"]
        assert idle and idle[0].fix is not None
        assert "ray start" not in preview(app) and "-tp 4 -pp 2" in preview(app)

        panel_findings = app.screen.query_one(FindingsPanel)
        assert panel_findings.apply(list(panel_findings.findings).index(idle[0]))  # as Enter does
        await pilot.pause()
        await pilot.pause()
        text = preview(app)
        assert "ray start --head" in text and "ray start --address HEAD_IP:6379" in text
        assert "--distributed-executor-backend ray" in text
        assert "--tensor-parallel-size 4" in text and "--pipeline-parallel-size 2" in text
        assert "2 nodes" in app.screen.query_one(CommandPreview).border_title
        est = app.current_plan().estimate
        assert est is not None and est.state == "starts"  # 70B bf16 on TP 4 x PP 2 H100s

        from tui import dialogs

        assert dialogs.command_text(app) == text  # Ctrl+Y copies what is shown
        texts = dialogs.export_texts(app)
        assert "ray start --head" in texts["Ray bring-up"]
        nnodes = " ".join(texts["vLLM --nnodes"].replace("\\\n", " ").split())
        assert "--nnodes 2 --node-rank 1" in nnodes and "--headless" in nnodes
        assert "LeaderWorkerSet" in texts["Kubernetes"]


async def test_the_planned_node_count_is_restored_on_restart():
    first = make_app(services=planning_services(), model=MODEL)
    async with first.run_test(size=(160, 48)) as pilot:
        await settle(first, pilot)
        first.set_planning_gpu("H100 80GB", 8, 3)
        await pilot.pause()
    again = make_app(services=planning_services(), model=MODEL)
    async with again.run_test(size=(160, 48)) as pilot:
        await settle(again, pilot)
        assert (again.planning_count, again.planning_nodes) == (8, 3)
        assert len(again.current_plan().gpus) == 24
        panel = again.screen.query_one(GpuPanel)
        assert panel.query_one("#nodes", Select).value == 3
