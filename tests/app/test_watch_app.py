"""The watch screen in the app (Pilot), against real HTTP servers on 127.0.0.1: rows fill in,
Enter opens that server's monitor fed from its API, Esc comes back, nothing is stopped."""

from __future__ import annotations

from tui.app import make_app
from tui.screens.monitor import MonitorScreen
from tui.screens.watch import WatchDialog, WatchScreen
from tui.widgets.server_table import ServerTable

from ..adapters.local_http import FakeVllm, free_port
from .app_helpers import services


async def wait_for(pilot, cond, steps: int = 100) -> None:
    for _ in range(steps):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def footer_bindings(app) -> list:
    """The bindings the footer shows now (enabled ones only)."""
    return [
        binding
        for (_node, binding, enabled, _tooltip) in app.screen.active_bindings.values()
        if binding.show and enabled
    ]


async def test_table_then_monitor_then_back():
    fake = FakeVllm()
    fake.server.start()
    gone = f"http://127.0.0.1:{free_port()}"
    try:
        app = make_app(services=services(), watch=(fake.server.url, gone))
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            screen = app.screen
            await wait_for(pilot, lambda: screen.hub.counts.get(fake.server.url, 0) >= 2)
            table = screen.query_one(ServerTable)
            assert table.row_count == 2
            assert str(table.get_cell(fake.server.url, "model")) == "tiny"
            assert "ready" in str(table.get_cell(fake.server.url, "state"))
            await wait_for(pilot, lambda: screen.hub.counts.get(gone, 0) >= 1)
            assert "no answer" in str(table.get_cell(gone, "state"))
            table.focus()
            table.move_cursor(row=0)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen))
            await wait_for(pilot, lambda: app.session.state.state == "ready")
            assert app.session.run.url == fake.server.url
            assert any("not available from the API" in line for line in app.session.log_history)
            assert not app.session.can_stop()
            app.action_stop_server()  # nothing to stop: no dialog
            await pilot.pause()
            assert isinstance(app.screen, MonitorScreen)
            # The footer offers what applies to a server we only watch: no Stop, no
            # Fix+relaunch, and Esc goes "Back" (to the table), not to "Configure".
            shown = {b.action: b.description for b in footer_bindings(app)}
            assert "app.stop_server" not in shown and "fix_relaunch" not in shown
            assert shown.get("back_watch") == "Back" and "back" not in shown
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
        assert fake.server.seen_headers  # it was polled for real
    finally:
        fake.server.stop()


async def test_one_url_opens_its_monitor_and_the_dialog_checks_urls():
    fake = FakeVllm()
    fake.server.start()
    try:
        app = make_app(services=services(), watch=(fake.server.url,))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen))
            await wait_for(pilot, lambda: app.session.state.state == "ready")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            app.action_watch_server()
            await wait_for(pilot, lambda: isinstance(app.screen, WatchDialog))
            await pilot.press(*"ftp://x", "enter")
            await pilot.pause()
            assert isinstance(app.screen, WatchDialog)  # refused, with the reason shown
            assert "only http" in str(app.screen.query_one("#watch-error").render())
    finally:
        fake.server.stop()


async def test_f3_offers_docker_compose_and_kubernetes_without_secrets():
    from tui.dialogs import export_texts

    app = make_app(services=services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.config = app.config.set("api_key", "sk-F3-SECRET-77").set("tensor_parallel_size", 1)
        texts = export_texts(app)
        assert {"docker run", "compose.yaml", "Kubernetes"} <= set(texts)
        assert "docker run" in texts["docker run"] and "-e VLLM_API_KEY" in texts["docker run"]
        assert "kind: Deployment" in texts["Kubernetes"]
        assert all("sk-F3-SECRET-77" not in text for text in texts.values())
