"""The VRAM panel shows the estimator's three states (starts / borderline / won't start) with
their colour class, the provenance marks of each figure, and Japanese when asked."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.core.arch_catalog import builtin_facts
from tui.core.config import ServeConfig
from tui.core.gpu_catalog import custom_gpu
from tui.core.plan import plan
from tui.widgets.vram_panel import VramPanel

FACTS = builtin_facts("meta-llama/Llama-3.1-8B-Instruct")
GPU = custom_gpu(22.07, "L4-like")
LABELS = {"starts": "✓ starts", "borderline": "≈ borderline", "wont_start": "✗ won't start"}


def result_for(max_model_len: int):
    cfg = ServeConfig.build("meta-llama/Llama-3.1-8B-Instruct", {"max_model_len": max_model_len})
    return plan(FACTS, cfg, (GPU,), planning=True, vllm_version="0.11.0")


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VramPanel()


async def test_panel_shows_each_state_with_its_class_and_marks():
    base = result_for(8192).estimate
    assert base is not None
    between = (base.kv_low.max_fitting_len + base.kv_high.max_fitting_len) // 2
    cases = {"starts": 4096, "borderline": between, "wont_start": 131072}
    app = PanelApp()
    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(VramPanel)
        for state, length in cases.items():
            result = result_for(length)
            assert result.estimate is not None and result.estimate.state == state
            panel.result = result
            await pilot.pause()
            text = str(panel.render())
            assert LABELS[state] in text
            assert panel.has_class("-fails") == (state == "wont_start")
            assert panel.has_class("-borderline") == (state == "borderline")
            assert "derived from vLLM's code" in text and "guess with band" in text
            assert "Activation ≈" in text and "Non-torch ~" in text
        panel.lang = "ja"
        await pilot.pause()
        assert "起動できない" in str(panel.render())


async def test_f7_dialog_shows_provenance_and_the_verdict():
    from textual.widgets import DataTable, Static

    from tui.screens.modals import WhyModal

    est = result_for(8192).estimate
    app = PanelApp()
    async with app.run_test(size=(160, 50)) as pilot:
        app.push_screen(WhyModal(est))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        cells = [str(table.get_cell_at((r, 4))) for r in range(table.row_count)]
        assert cells[0] == "vLLM's arithmetic"
        assert "derived from vLLM's code" in cells and "guess with band" in cells
        verdict = str(app.screen.query_one("#why-verdict", Static).render())
        assert est is not None and est.verdict.split(":")[0] in verdict
