"""The app's dialogs: keys, why-this-number, copy, import, export, profiles, runs.

Plain functions over the app (no mixin): each opens a modal and applies its answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from tui.core.catalog import t
from tui.core.errors import UserError
from tui.planning import node_layout

if TYPE_CHECKING:
    from tui.app import VllmTuiApp


def show_help(app: VllmTuiApp) -> None:
    from tui.screens.modals import HelpModal

    app.push_screen(HelpModal(app.lang))


def show_why(app: VllmTuiApp) -> None:
    from tui.screens.modals import WhyModal

    plan = app.current_plan()
    known = [f.message for f in plan.findings]
    app.push_screen(WhyModal(plan.estimate, app.lang, note=demo_note(app), findings=known))


def demo_note(app: VllmTuiApp) -> str:
    if not app.services.demo:
        return ""
    return app.t(
        "Demo: the plan is for the fake H100 box; the replayed log is a CPU run of a tiny model.",
        "デモ: 計画は架空の H100 構成、再生ログは小さなモデルの CPU 実行です。",
    )


def command_text(app: VllmTuiApp) -> str:
    """The command pane's text: what Ctrl+Y copies and F3 exports as "command"."""
    from tui.widgets.command_preview import preview_text

    nodes, per_node = node_layout(app.current_plan())
    version = app.install.version if app.install else None
    return preview_text(app.config, version=version, nodes=nodes, gpus_per_node=per_node)


def copy_command(app: VllmTuiApp) -> None:
    app.copy_to_clipboard(command_text(app))
    app.say(t("command copied (secrets masked)", "コマンドをコピーしました（秘密は伏せ字）"))


def import_config(app: VllmTuiApp) -> None:
    from tui.screens.modals import ImportModal

    def done(text: str | None) -> None:
        if not text or not text.strip():
            return
        from tui.core.importer import parse_command, parse_yaml

        try:
            cfg = (
                parse_command(text)
                if "serve" in text
                or text.lstrip().startswith(("python", "docker", "-", "VLLM", "CUDA"))
                else parse_yaml(text)
            )
        except UserError as exc:
            app.notify(exc.message, severity="error", timeout=8)
            return
        app.config = cfg
        app.load_model(cfg.model)
        app.say(t("imported", "取り込みました"))

    app.push_screen(ImportModal(app.lang), done)


def export_texts(app: VllmTuiApp) -> dict[str, str]:
    from tui.core.commands import dump_yaml, shell_script

    version = app.install.version if app.install else None
    command = command_text(app)
    texts = {
        "command": command if command.endswith("\n") else command + "\n",
        "yaml": dump_yaml(app.config, version),
        "shell script": shell_script(app.config, version=version),
    }
    texts.update(container_texts(app, version))  # H6 hook
    nodes, per_node = node_layout(app.current_plan())
    if nodes > 1:
        from tui.core.catalog.parallel import world_size
        from tui.core.commands import nodes_bringup, ray_bringup, render_bringup

        if world_size(app.config) > 1:  # else the check's fix comes first (see the command)
            for name, build in (("Ray bring-up", ray_bringup), ("vLLM --nnodes", nodes_bringup)):
                texts[name] = render_bringup(build(app.config, nodes, per_node, version=version))
    return texts


def container_texts(app: VllmTuiApp, version: str | None) -> dict[str, str]:
    """docker run / compose.yaml / Kubernetes for the config and the chosen GPUs."""
    import os

    from tui.core.exports import Target, container_exports

    cfg = app.config.with_gpus(",".join(app.chosen)) if app.chosen else app.config
    cache = os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface")
    nodes, _ = node_layout(app.current_plan())
    return container_exports(cfg, Target(version=version, hf_cache=cache, nodes=nodes))


def export(app: VllmTuiApp) -> None:
    from tui.screens.modals import ExportModal

    texts = export_texts(app)

    def done(choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, fmt = choice
        if what == "copy":
            app.copy_to_clipboard(texts[fmt])
            app.say(t(f"{fmt} copied (secrets masked)", f"{fmt} をコピーしました（秘密は伏せ字）"))
            return
        path = what.removeprefix("write:")
        from tui.adapters.settings import atomic_write

        try:
            atomic_write(
                Path(path).expanduser(),
                texts[fmt],
                mode=0o755 if fmt == "shell script" else 0o644,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            app.say(t(f"cannot write {path}: {reason}", f"{path} に書けません: {reason}"), "error")
            return
        app.say(t(f"wrote {path}", f"{path} に書き出しました"))

    app.push_screen(ExportModal(texts, app.lang), done)


def profiles(app: VllmTuiApp) -> None:
    from tui.adapters import profiles as store
    from tui.screens.modals import ProfilesModal

    def done(choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, name = choice
        try:
            if what == "save":
                path = store.save_profile(name, app.config)
                app.say(
                    t(
                        f"saved {path.name} (secrets are not saved)",
                        f"{path.name} に保存しました（秘密は保存しません）",
                    )
                )
            else:
                app.config = store.load_profile(name)
                app.load_model(app.config.model)
                app.say(t(f"loaded {name}", f"{name} を読み込みました"))
        except (UserError, OSError) as exc:
            app.notify(str(exc), severity="error", timeout=10)

    app.push_screen(ProfilesModal(store.list_profiles(), app.lang), done)


def runs(app: VllmTuiApp) -> None:
    from tui.screens.modals import RunsModal

    found = app.services.launcher.list_runs()

    def done(choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, run_id = choice
        run = next(r for r in found if r.id == run_id)
        if what == "attach":
            app.attach(run_id)
        else:
            app.stop_run(run)

    app.push_screen(RunsModal(found, app.lang), done)


def system_commands(app: VllmTuiApp) -> Iterator[SystemCommand]:
    """The command palette: every bound action (tui.bindings) plus a few without a key."""
    from tui.bindings import palette_entries

    for title, help_text, action in palette_entries(app.lang):
        callback = getattr(app, f"action_{action.removeprefix('app.')}", None)
        if callback is not None:
            yield SystemCommand(title, help_text, callback)
    yield SystemCommand(
        app.t("Re-detect GPUs", "GPU を再検出"), app.t("Probe NVML again", "NVML で再度検出"),
        app.probe_gpus,
    )  # fmt: skip
    yield SystemCommand(
        app.t("Watch a server", "サーバーを監視"),
        app.t(
            "Monitor vLLM servers started elsewhere, from their HTTP API",
            "他で起動された vLLM サーバーを HTTP API から監視",
        ),
        app.action_watch_server,
    )
