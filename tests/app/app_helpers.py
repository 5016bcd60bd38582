"""Building the app for tests: fake GPUs, the replay launcher, no network, no real vLLM."""

from __future__ import annotations

from dataclasses import replace

from tui.adapters.gpus import GpuSnapshot
from tui.adapters.replay import DEMO_INSTALL, demo_log_lines, demo_snapshot
from tui.adapters.services import ReplayLauncher, Services, no_gpu_snapshot
from tui.app import VllmTuiApp, make_app


def one_gpu() -> GpuSnapshot:
    snap = demo_snapshot()
    return replace(snap, gpus=snap.gpus[:1], links={})


def services(
    snapshot: GpuSnapshot | None = None,
    lines: list[str] | None = None,
    per_step: int = 400,
    vllm: bool = True,
) -> Services:
    svc = Services.demo_services()
    snap = snapshot or one_gpu()
    svc.probe = lambda: snap
    svc.launcher = ReplayLauncher(lines or demo_log_lines(), per_step=per_step)
    svc.find_vllm = (lambda: DEMO_INSTALL) if vllm else (lambda: None)
    return svc


def planning_services() -> Services:
    svc = services(vllm=False)
    svc.probe = lambda: no_gpu_snapshot()
    return svc


def app(model: str = "Qwen/Qwen3-8B", **kw) -> VllmTuiApp:
    return make_app(services=services(**kw), model=model)


async def settle(app: VllmTuiApp, pilot) -> None:
    """Wait until start-up is over: the workers are done (a run's follower lasts as long as
    the run, so it is not waited for), the footer that follows the first frame lists its
    keys, and the layout has stopped changing (a loaded machine reaches it later)."""
    await app.workers.wait_for_complete([w for w in app.workers if w.group != "follow"])
    last = None
    for _ in range(100):
        await pilot.pause()
        now = layout_of(app)
        if now == last and footer_ready(app):
            break
        last = now
        await pilot.pause(0.02)
    await pilot.pause()


def layout_of(app: VllmTuiApp) -> list[tuple[int, object]]:
    """Where every widget of the screen sits (compared between two pauses)."""
    return [(id(w), w.region) for w in app.screen.walk_children(with_self=True)]


def footer_ready(app: VllmTuiApp) -> bool:
    """No screen still holds its footer's row empty, and every footer shows its keys."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    from tui.widgets.title_bar import FooterSlot

    for screen in app.screen_stack:
        if screen.query(FooterSlot):
            return False
        if any(not footer.query(FooterKey) for footer in screen.query(Footer)):
            return False
    return True


async def launch(
    app: VllmTuiApp, pilot, until: tuple[str, ...] = ("ready", "failed"), steps: int = 40
) -> None:
    """Press F5 (with nothing focused) and wait until the run reaches one of `until`."""
    app.screen.set_focus(None)
    await pilot.press("f5")
    for _ in range(steps):
        await pilot.pause(0.05)
        if app.run_state.state in until and app.screen.__class__.__name__ == "MonitorScreen":
            break
