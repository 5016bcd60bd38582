"""WatchScreen: vLLM servers we did not start, one row each, polled from their HTTP API.

Enter opens the selected server's monitor (the same MonitorScreen a launched run gets, fed
by a RemoteWatcher); Esc there comes back here, Esc here goes back to Configure. With one
URL the monitor opens straight away. WatchDialog asks for URLs from inside the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui.adapters.remote import RemoteServer, normalize_url, read_api_key
from tui.adapters.remote_hub import RemoteRun, RemoteWatcher, WatchHub
from tui.bindings import apply_language, bindings
from tui.core.catalog.spec import t
from tui.core.errors import UserError
from tui.core.watchstate import WatchSample
from tui.screens.modals import Dialog
from tui.widgets.server_table import ServerTable
from tui.widgets.title_bar import TitleBar

HELP = t(
    "Read from each server's HTTP API. Enter: its monitor. Startup memory report: "
    "not available from the API (only in the server's log).",
    "各サーバーの HTTP API から読み取ります。Enter でモニター。起動時のメモリ報告は "
    "API からは取得できません（サーバーのログのみ）。",
)


def _lang(app: App[Any]) -> str:
    return str(getattr(app, "lang", "en"))


class WatchScreen(Screen[None]):
    CSS_PATH = "watch.tcss"
    BINDINGS = bindings("watch")
    BINDINGS_SCOPE = "watch"

    def __init__(self, hub: WatchHub, *, poll: bool = True, open_single: bool = True) -> None:
        super().__init__()
        self.hub = hub
        self.poll = poll
        self.open_single = open_single
        self._stop = asyncio.Event()

    def compose(self) -> ComposeResult:
        lang = _lang(self.app)
        yield TitleBar()
        with Vertical(id="watch-main"):
            yield Static(HELP.get(lang), id="watch-help")
            yield ServerTable(lang=lang, id="servers")
        yield Footer()

    def on_mount(self) -> None:
        apply_language(self, "watch", _lang(self.app))
        n = len(self.hub.urls)
        self.sub_title = t(f"watching {n} server(s)", f"{n} 台を監視中").get(_lang(self.app))
        self.refresh_rows()
        self.watch(self.app, "lang", self._relabel, init=False)
        if self.poll:
            self.run_poller()
        if self.open_single and n == 1:
            self.call_after_refresh(self.open_monitor, self.hub.urls[0])

    def refresh_rows(self) -> None:
        table = self.query_one(ServerTable)
        for url in self.hub.urls:
            table.show(url, self.hub.history.get(url, ()))

    def _relabel(self, lang: str) -> None:
        table = self.query_one(ServerTable)
        table.lang = lang
        table.clear(columns=True)
        table.set_columns()
        self.query_one("#watch-help", Static).update(HELP.get(lang))
        self.refresh_rows()

    @work(exclusive=True, group="watch-poll", exit_on_error=False)
    async def run_poller(self) -> None:
        async for sample in self.hub.run(self._stop):
            self.show_sample(sample)

    def show_sample(self, sample: WatchSample) -> None:
        if self.is_attached:
            self.query_one(ServerTable).show(sample.url, self.hub.history.get(sample.url, ()))

    def on_unmount(self) -> None:
        self._stop.set()

    def on_data_table_row_selected(self, event: ServerTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_monitor(event.row_key.value)

    def action_open(self) -> None:
        url = self.query_one(ServerTable).selected_url
        if url:
            self.open_monitor(url)

    def open_monitor(self, url: str) -> None:
        # The app's run session shows it like an attached run; its monitor follows it.
        session = getattr(self.app, "session", None)
        if session is None:
            self.notify("this app has no monitor screen", severity="error")
            return
        session.watch_remote(RemoteRun(self.hub, url), RemoteWatcher(self.hub, url))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()


def open_watch(app: App[Any], urls: Sequence[str], api_key: str | None = None) -> None:
    """Push the watch screen for `urls` (already normalized or not)."""
    servers = [RemoteServer(u, api_key) for u in dict.fromkeys(normalize_url(u) for u in urls)]
    app.push_screen(WatchScreen(WatchHub(servers)))


class WatchDialog(Dialog):
    """Ask for one or more server URLs (the API key comes from VLLM_API_KEY)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.tr("Watch a server", "サーバーを監視"), classes="title")
            yield Label(
                self.tr(
                    "URLs of vLLM servers, separated by spaces (the API key is read from "
                    "VLLM_API_KEY)",
                    "vLLM サーバーの URL（空白区切り。API キーは VLLM_API_KEY から読みます）",
                )
            )
            yield Input(placeholder="http://10.0.0.5:8000", id="watch-urls")
            yield Static("", id="watch-error")
            with Horizontal():
                yield Button(self.tr("Watch", "監視"), variant="primary", id="ok")
                yield Button(self.tr("Cancel", "キャンセル"), id="cancel")

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        raw = self.query_one("#watch-urls", Input).value.split()
        try:
            urls = [normalize_url(u) for u in raw]
        except UserError as exc:
            self.query_one("#watch-error", Static).update(exc.message)
            return
        if urls:
            self.dismiss(urls)


def watch_dialog(app: App[Any]) -> None:
    """The "Watch a server" command: ask, then open the watch screen."""

    def done(urls: list[str] | None) -> None:
        if urls:
            try:
                key = read_api_key()
            except UserError as exc:
                app.notify(exc.message, severity="error")
                return
            open_watch(app, urls, key)

    app.push_screen(WatchDialog(_lang(app)), done)
