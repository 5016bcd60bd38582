"""The title row and the footer's place on the first frame.

`TitleBar` draws what Textual's Header draws (the ⭘ icon, the screen's title and sub-title
centred between the icon's 8 cells and the clock's 10), as one widget: Textual's Header is
four widgets, each styled, laid out and rendered before the first frame can be written.

`FooterSlot` holds the footer's row on the configure screen's first frame; the Footer (a
widget per key, and the stylesheet of both) is mounted into its place once that frame is on
screen, so nothing above it moves.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widget import Widget

ICON = "⭘"
ICON_CELLS = 8  # Header's icon: width 8, padding 0 1
CLOCK_CELLS = 10  # Header's clock space, kept so the title sits where Header puts it


def title_line(title: Content, width: int) -> Content:
    """One row of `width` cells: the icon, then `title` centred (cropped with an ellipsis)."""
    inner = max(0, width - ICON_CELLS - CLOCK_CELLS)
    title = title.rstrip().truncate(inner, ellipsis=True)
    left = (inner - title.cell_length) // 2
    head = Content(f" {ICON}".ljust(ICON_CELLS)) if width >= ICON_CELLS else Content("")
    return Content.assemble(head, " " * left, title)


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar { dock: top; width: 100%; height: 1; background: $panel; color: $foreground; }
    """

    def on_mount(self) -> None:
        for node, name in (
            (self.app, "title"),
            (self.app, "sub_title"),
            (self.screen, "title"),
            (self.screen, "sub_title"),
        ):
            self.watch(node, name, self._retitle, init=False)

    def _retitle(self) -> None:
        self.refresh()

    def render(self) -> Content:
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub = screen.sub_title if screen.sub_title is not None else app.sub_title
        return title_line(app.format_title(title, sub), self.size.width)

    async def on_click(self, event: events.Click) -> None:
        if event.x < ICON_CELLS and self.app.ENABLE_COMMAND_PALETTE:
            event.stop()
            await self.run_action("app.command_palette")


class FooterSlot(Widget):
    DEFAULT_CSS = """
    FooterSlot { dock: bottom; height: 1; background: $footer-background; }
    """

    def render(self) -> str:
        return ""  # (a bare Widget draws its class name)

    def fill(self) -> None:
        """The Footer takes this row (in one batch: the screen is never a row short)."""
        from textual.widgets import Footer

        if not self.is_attached:
            return
        screen = self.screen
        with self.app.batch_update():
            screen.mount(Footer())
            self.remove()
        # A Footer lists the keys when told the bindings changed; nothing else may say so
        # once start-up is over (in a real terminal it then stayed empty).
        screen.call_after_refresh(screen.refresh_bindings)
