"""What the run's keys and messages do (launch, stop, quit, hang-up, attach, refusals):
plain functions over the app, which keeps only thin actions, handlers and workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.catalog import BY_DEST, t
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.messages import RunLaunchRefused, RunUpdated

if TYPE_CHECKING:
    from tui.adapters.services import RunLike
    from tui.app import VllmTuiApp


def on_monitor(app: VllmTuiApp) -> bool:
    from tui.screens.monitor import MonitorScreen

    return isinstance(app.screen, MonitorScreen)


def launch(app: VllmTuiApp, replace_active: bool) -> int | None:
    """Check that a launch may start; begin a new generation of the session (or say why not)."""
    if app.install is None:
        app.say(
            t(
                "No vLLM found: planning mode (install vLLM or start with --vllm PATH).",
                "vLLM が見つかりません: 計画モードです（vLLM を入れるか --vllm PATH で起動）。",
            ),
            "error",
        )
        return None
    if app.session.alive() and not replace_active:
        app.say(
            t(
                "A server is already running: stop it first (Ctrl+X).",
                "サーバーが実行中です: 先に停止してください（Ctrl+X）。",
            ),
            "warning",
        )
        return None
    from tui.core.plan import BLOCKING, INPUT_ERRORS

    result = app.current_plan()
    blocking = [
        f
        for f in result.findings
        if f.level == "error" and (f.code in BLOCKING or f.code in INPUT_ERRORS)
    ]
    if blocking:
        msg = blocking[0].message.get(app.lang)
        app.say(
            t(
                f"Not launching: {msg} (Ctrl+F applies the fix)",
                f"起動しません: {msg}（Ctrl+F で修正を適用）",
            ),
            "error",
            timeout=8,
        )
        if on_monitor(app):
            app.pop_screen()
        return None
    gpu_name = result.gpus[0].name if result.gpus else None
    return app.session.begin(
        app.config, result.estimate, gpu_name, app.install, replace=replace_active
    )


def refused(app: VllmTuiApp, event: RunLaunchRefused) -> None:
    app.say(t(f"Not launched: {event.text}", f"起動しませんでした: {event.text}"), "error", 10)
    app.run_state = app.session.state
    if on_monitor(app):
        app.pop_screen()
    fix = event.fix
    if isinstance(fix, dict) and fix:
        app.apply_fix({k: v for k, v in fix.items() if k != "env"}, fix.get("env"))
    elif fix is not None and hasattr(fix, "set"):
        app.apply_fix(dict(fix.set), dict(fix.env))


def config_of_run(info: Any) -> ServeConfig | None:
    """The flags a run was launched with (its run.json; secrets were never stored)."""
    values = info.get("config")
    model = info.get("model")
    if not isinstance(values, dict) or not isinstance(model, str):
        return None
    try:
        cfg = ServeConfig(model).update(
            {k: v for k, v in values.items() if v != "****" and k in BY_DEST}
        )
    except UserError:
        return None
    devices = info.get("cuda_visible_devices")
    return cfg.with_gpus(str(devices)) if devices else cfg


def adopt_attached(app: VllmTuiApp, run: RunLike) -> None:
    """Show the attached server's flags and remember its vLLM (Esc goes to them)."""
    info = getattr(run, "info", None) or {}
    cfg = config_of_run(info)
    if cfg is not None:
        app.config = cfg
        app.load_model(cfg.model)
    python = info.get("vllm_python")
    if isinstance(python, str) and python and app.install is None and not app.services.demo:
        app.adopt_vllm(python)


def confirm_stop(app: VllmTuiApp) -> None:
    """Ctrl+X: ask, as Ctrl+Q does, then stop."""
    run = app.session.run
    if run is None or getattr(run, "remote", False):  # a watched server is not ours
        return
    from tui.screens.modals import ConfirmModal

    def decide(yes: bool | None) -> None:
        if yes:
            app.stop_worker(app.session.request_stop(), then_exit=False)

    app.push_screen(
        ConfirmModal(
            app.t(f"Stop the server {run.id}?", f"サーバー {run.id} を停止しますか？"),
            app.t(
                f"It serves {run.url}; requests in flight are cut off.",
                f"{run.url} で応答中です。処理中のリクエストは打ち切られます。",
            ),
            app.t("Stop server", "停止する"),
            app.t("Cancel", "キャンセル"),
        ),
        decide,
    )


def quit_app(app: VllmTuiApp) -> None:
    """Ctrl+Q: with a server of ours running, ask: stop it, leave it running, or cancel."""
    run = app.session.run
    if run is None or not run.alive() or app.run_state.state == "stopped":
        app.exit(0)
        return
    from tui.screens.modals import QuitModal

    def decide(choice: str | None) -> None:
        if choice == "stop":
            app.stop_worker(app.session.request_stop(), then_exit=True)
        elif choice == "leave":
            app.exit(0)

    app.push_screen(QuitModal(run.id, run.url, app.lang), decide)


def hangup(app: VllmTuiApp) -> None:
    """The terminal went away (SSH dropped): stop the run only if this session launched
    it (an attached one is left running), then exit - within a deadline, as Textual's
    shutdown can block on a dead terminal (tui.adapters.hangup)."""
    from tui.adapters.hangup import hang_up

    def stop(r: RunLike) -> None:
        app.session.request_stop()
        app.services.launcher.stop(r)

    hang_up(app.session.run, launched_here=not app.session.attached, stop=stop)
    app.exit(0)


def gpu_memory(app: VllmTuiApp, snap: Any) -> str:
    """Live memory of the GPUs the run uses (the monitor's small table)."""
    from tui.screens.monitor import gpu_memory_text

    return gpu_memory_text(
        [
            (g.index, g.name, g.memory_used_bytes, g.memory_total_bytes)
            for g in snap.chosen(app.chosen or None)
        ]
    )


def worker_failed(app: VllmTuiApp, worker: Any) -> None:
    """A worker raised: a visible error; the app goes on."""
    what = worker.name or worker.group
    app.notify(
        app.t(f"{what} failed: {worker.error}", f"{what} が失敗しました: {worker.error}"),
        title=app.t("Error", "エラー"),
        severity="error",
        timeout=15,
    )


def starting(app: VllmTuiApp) -> None:
    """A new generation began: the old follower goes; a shown monitor switches at once."""
    app.workers.cancel_group(app, "follow")
    app.run_state = app.session.state
    if on_monitor(app):  # a relaunch: the monitor shows the new run at once
        app.show_monitor(fresh=True)


def updated(app: VllmTuiApp, event: RunUpdated) -> None:
    """The run moved on: the state (for bindings), the monitor, live GPU memory."""
    from tui.screens.monitor import MonitorScreen

    app.run_state = app.session.state
    screen = app.screen
    if isinstance(screen, MonitorScreen) and screen.is_mounted:
        screen.apply_update(event.update, event.total_lines, event.total_samples)
    now = app.services.clock()
    snap = app.snapshot
    if now - app.last_gpu_probe > 2 and snap is not None and snap.gpus and not app.services.demo:
        app.last_gpu_probe = now
        app.gpu_live()
    if not event.update.alive:
        app.refresh_bindings()
