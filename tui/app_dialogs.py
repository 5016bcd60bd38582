"""The app's dialogs: keys, why-this-number, language, copy, import, export, profiles, runs.
A mixin of VllmTuiApp."""

from __future__ import annotations

from tui.core.errors import UserError


class Dialogs:
    def action_help(self) -> None:
        from tui.screens.modals import HelpModal

        self.push_screen(HelpModal(self.lang))

    def action_toggle_lang(self) -> None:
        self.lang = "ja" if self.lang == "en" else "en"

    def action_why(self) -> None:
        from tui.screens.modals import WhyModal

        self.push_screen(WhyModal(self.current_plan().estimate))

    def command_text(self) -> str:
        from tui.widgets.command_preview import preview_text

        return preview_text(self.config, version=self.install.version if self.install else None)

    def action_copy_command(self) -> None:
        self.copy_to_clipboard(self.command_text())
        self.notify("command copied (secrets masked)")

    def action_import_config(self) -> None:
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
                self.notify(exc.message, severity="error", timeout=8)
                return
            self.config = cfg
            self.load_model(cfg.model)
            self.notify("imported")

        self.push_screen(ImportModal(), done)

    def action_export(self) -> None:
        from tui.core.commands import dump_yaml, shell_script
        from tui.screens.modals import ExportModal

        version = self.install.version if self.install else None
        texts = {
            "command": self.command_text(),
            "yaml": dump_yaml(self.config, version),
            "shell script": shell_script(self.config, version=version),
        }

        def done(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            what, fmt = choice
            if what == "copy":
                self.copy_to_clipboard(texts[fmt])
                self.notify(f"{fmt} copied (secrets masked)")
                return
            path = what.removeprefix("write:")
            from pathlib import Path

            from tui.adapters.settings import atomic_write

            try:
                atomic_write(
                    Path(path).expanduser(),
                    texts[fmt],
                    mode=0o755 if fmt == "shell script" else 0o644,
                )
            except OSError as exc:
                self.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error")
                return
            self.notify(f"wrote {path}")

        self.push_screen(ExportModal(texts), done)

    def action_profiles(self) -> None:
        from tui.adapters import profiles
        from tui.screens.modals import ProfilesModal

        def done(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            what, name = choice
            try:
                if what == "save":
                    path = profiles.save_profile(name, self.config)
                    self.notify(f"saved {path.name} (secrets are not saved)")
                else:
                    self.config = profiles.load_profile(name)
                    self.load_model(self.config.model)
                    self.notify(f"loaded {name}")
            except (UserError, OSError) as exc:
                self.notify(str(exc), severity="error", timeout=10)

        self.push_screen(ProfilesModal(profiles.list_profiles()), done)

    def action_runs(self) -> None:
        from tui.screens.modals import RunsModal

        runs = self.services.launcher.list_runs()

        def done(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            what, run_id = choice
            run = next(r for r in runs if r.id == run_id)
            if what == "attach":
                self.attach(run_id)
            else:
                self._stop(run, then_exit=False)

        self.push_screen(RunsModal(runs), done)
