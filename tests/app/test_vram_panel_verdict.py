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


async def test_the_panel_measures_its_height_at_the_width_it_is_laid_out_for():
    """Textual asks a panel's content height for the width it is about to give it. Measured
    with the bar drawn for the width the panel had, a narrower column got a bar that wrapped
    into two lines and a blank row at the panel's foot (seen when the breakpoint class came
    after the first estimate, behind a dialog opened meanwhile)."""
    app = PanelApp()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(VramPanel)
        panel.result = result_for(8192)
        await pilot.pause()
        wide = panel.size.width
        await assert_measured_at_layout_width(panel, pilot, (wide - 30, wide - 50, wide))


async def test_the_phase_bar_measures_its_height_at_the_width_it_is_laid_out_for():
    """The monitor's start-up bar is drawn to its width as well (the same measurement)."""
    from tui.core.runstate import RunState
    from tui.widgets.phase_bar import PhaseBar

    class BarApp(App[None]):
        def compose(self) -> ComposeResult:
            yield PhaseBar()

    app = BarApp()
    async with app.run_test(size=(120, 20)) as pilot:
        bar = app.query_one(PhaseBar)
        bar.state = RunState()
        bar.live_progress = ("load_weights", 0.5)
        await pilot.pause()
        await assert_measured_at_layout_width(bar, pilot, (48, 60, bar.size.width))


async def assert_measured_at_layout_width(widget, pilot, widths) -> None:
    """For each width: the height Textual is told for it is the height drawn at it."""
    from textual.geometry import Size

    screen = Size(*pilot.app.size)
    for width in widths:
        height = widget.get_content_height(screen, screen, width)
        widget.styles.width = width + 4  # border and padding
        await pilot.pause()
        assert widget.size.width == width
        assert height == len(widget.render().wrap(width)), width
