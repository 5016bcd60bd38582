"""TitleBar draws Header's row as one widget; FooterSlot holds the footer's row on the first
frame and hands it to a Footer that shows every key."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Footer, Header, Static
from textual.widgets._footer import FooterKey

from tui.widgets.title_bar import FooterSlot, TitleBar, title_line


class Slotted(App[None]):
    CSS = "Static { height: 1fr; }"
    BINDINGS = [Binding("f1", "help", "Help"), Binding("f5", "launch", "Launch")]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("body")
        yield FooterSlot()

    def action_help(self) -> None:
        pass

    def action_launch(self) -> None:
        pass


async def test_a_footer_mounted_into_the_slot_late_shows_every_key():
    """Filled once the app is idle (nothing left to announce the bindings, as in a real
    terminal after start-up): the Footer still lists the keys, in the slot's row."""
    app = Slotted()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause(0.2)
        app.screen.query_one(FooterSlot).fill()
        await pilot.pause(0.2)
        assert not app.screen.query(FooterSlot)
        assert app.screen.query_one(Footer).region.y == 9
        assert {"Help", "Launch"} <= {k.description for k in app.screen.query(FooterKey)}
        assert app.screen.query_one(Static).region.height == 8  # nothing above moved


class Titled(App[None]):
    TITLE = "vllm-tui"
    SUB_TITLE = "Qwen/Qwen3-8B · 2 x H100"

    def __init__(self, bar: type) -> None:
        super().__init__()
        self.bar = bar

    def compose(self) -> ComposeResult:
        yield self.bar()


async def _row(bar: type, width: int) -> list[tuple[str, object]]:
    """The first row as drawn: (character, style) per cell."""
    app = Titled(bar)
    async with app.run_test(size=(width, 3)) as pilot:
        await pilot.pause()
        strip = app.screen._compositor.render_strips()[0]
        return [(ch, seg.style and seg.style.bgcolor) for seg in strip for ch in seg.text]


async def test_the_title_row_reads_as_headers_did():
    for width in (80, 40, 20):
        assert await _row(TitleBar, width) == await _row(Header, width)


def test_a_long_title_is_cropped_with_an_ellipsis_between_icon_and_clock_space():
    line = title_line(Content("x" * 100), 40)
    assert line.plain.startswith(" ⭘      ")
    assert line.cell_length == 8 + 22 and line.plain.endswith("…")
