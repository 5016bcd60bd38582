"""The configure screen never disagrees with the command: the flag form is a view of the
config whoever changes it (typing, Ctrl+F fixes, imports, profiles, resets), bad values are
shown and listed in the Checks, and the keyboard reaches everything."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tui.core.catalog import BY_DEST, CATALOG
from tui.core.config import ServeConfig
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.flag_field import FlagEditor, shown_text
from tui.widgets.flag_form import FlagForm
from tui.widgets.flag_help import FlagHelp
from tui.widgets.model_panel import count_text

from .app_helpers import app as build_app
from .app_helpers import planning_services, settle


def form_of(app) -> FlagForm:
    return app.screen.query_one(FlagForm)


def mismatches(app) -> list[tuple[str, str, str]]:
    """(dest, shown, expected) for every catalog field whose text is not the config's."""
    form = form_of(app)
    out = []
    for spec in CATALOG:
        if spec.dest in form.drafts:
            continue  # text that does not parse: shown with its error, listed in the Checks
        want = shown_text(spec, app.config.get(spec.dest))
        got = form.shown_value(spec.dest)
        editor = app.screen.query_one(FlagEditor)
        cleared = got == "" and form._editing == spec.dest and editor.placeholder.endswith(want)
        if got != want and not cleared:  # a field just emptied shows the default it now has
            out.append((spec.dest, got, want))
    return out


async def typed(pilot, dest: str, text: str) -> None:
    editor = form_of(pilot.app).focus_flag(dest)
    editor.value = ""
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause()
    await pilot.pause()


def checks_text(app) -> str:
    return " | ".join(f.message.en for f in app.screen.query_one(FindingsPanel).findings)


async def test_ctrl_f_fix_shows_in_the_focused_field():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await typed(pilot, "gpu_memory_utilization", "65536")
        assert app.config.get("gpu_memory_utilization") == 65536
        assert "utilization" in checks_text(app)
        editor = app.screen.query_one(FlagEditor)
        assert editor.has_focus
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.pause()
        assert app.config.get("gpu_memory_utilization") == 0.9
        assert editor.value == "0.9"  # the focused field shows the fixed value
        assert mismatches(app) == []


async def test_profile_import_and_reset_replace_every_field_even_text_being_typed():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await typed(pilot, "max_model_len", "32x")  # does not parse: a draft
        assert "max_model_len" in form_of(app).drafts
        app.config = ServeConfig.build(
            "Qwen/Qwen3-8B", {"max_model_len": 4096, "tensor_parallel_size": 1, "port": 9001}
        )
        await pilot.pause()
        await pilot.pause()
        assert form_of(app).drafts == {}
        assert app.screen.query_one(FlagEditor).value == "4096"
        assert form_of(app).shown_value("port") == "9001"
        assert mismatches(app) == []
        app.config = ServeConfig("Qwen/Qwen3-8B")  # reset
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one(FlagEditor).value == ""
        assert mismatches(app) == []


async def test_invalid_choice_is_an_inline_error_and_a_check_and_never_in_the_command():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        form = form_of(app)
        form.installed_choices = {"--kv-cache-dtype": ("auto", "fp8", "bfloat16")}
        await typed(pilot, "kv_cache_dtype", "2fp8")
        assert "not one of" in form.help_line("kv_cache_dtype")
        assert "2fp8" in checks_text(app)
        assert app.config.get("kv_cache_dtype") == "auto"
        assert "2fp8" not in app.command_text()
        # an imported bad value: in the config, so an error in the Checks and under the field
        app.config = ServeConfig.build("Qwen/Qwen3-8B", {"quantization": "fp"})
        await pilot.pause()
        await pilot.pause()
        assert "--quantization fp is not accepted" in checks_text(app)
        assert "not accepted" in form.help_line("quantization")
        assert app.current_plan().estimate is None  # no estimate from a value vLLM rejects


async def test_checks_list_a_failing_vram_verdict():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await typed(pilot, "gpu_memory_utilization", "0.25")  # weights fit, one request does not
        assert not app.current_plan().estimate.fits
        assert not [f for f in app.current_plan().findings if f.level == "error"]
        findings = app.screen.query_one(FindingsPanel).findings
        verdict = [f for f in findings if f.code == "vram-fails"]
        assert verdict and verdict[0].fix is not None
        assert dict(verdict[0].fix.set)["max_model_len"] <= 10096
        assert "no problems" not in str(app.screen.query_one(FindingsPanel).render())


async def test_planning_two_gpus_offers_tp2_with_per_gpu_weights():
    from tui.app import make_app

    app = make_app(services=planning_services(), model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.set_planning_gpu("H100 80GB", 2)
        await pilot.pause()
        await pilot.pause()
        idle = [f for f in app.screen.query_one(FindingsPanel).findings if f.code == "gpus-idle"]
        assert idle and dict(idle[0].fix.set) == {"tensor_parallel_size": 2}
        assert "GiB of weights" in idle[0].message.en
        app.screen.set_focus(None)
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.pause()
        assert app.config.get("tensor_parallel_size") == 2
        assert form_of(app).shown_value("tensor_parallel_size") == "2"


async def test_slash_focuses_search_and_help_follows_the_editor():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.set_focus(None)
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "flag-search"
        await pilot.press(*"kv-cache-dtype")
        await pilot.pause()
        await pilot.press("tab")  # no hidden focus stop: straight to the first match
        await pilot.pause()
        assert isinstance(app.focused, FlagEditor)
        help_pane = app.screen.query_one(FlagHelp)
        assert help_pane.dest == "kv_cache_dtype"
        await pilot.press("down")
        await pilot.pause()
        assert help_pane.dest != "kv_cache_dtype"  # the help follows at once
        # "/" from a number field goes back to the search box
        form_of(app).focus_flag("max_model_len")
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused.id == "flag-search"


async def test_jump_to_flag_from_the_command_palette():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        app.screen.jump_to_flag("seed")
        await pilot.pause()
        assert isinstance(app.focused, FlagEditor)
        assert app.screen.query_one(FlagHelp).dest == "seed"
        # the same through the palette, keys only
        app.screen.set_focus(None)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"jump to flag --max-lora-rank")
        for _ in range(40):
            await pilot.pause(0.05)
            if "--max-lora-rank" in str(
                app.screen.query("CommandList").first().render_line(0).text
            ):
                break
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.focused, FlagEditor)
        assert app.screen.query_one(FlagHelp).dest == "max_lora_rank"


async def test_model_field_says_enter_to_apply_and_applies_on_leaving():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        box = app.screen.query_one("#model-input")
        box.focus()
        box.value = "Qwen/Qwen3-0.6B"
        await pilot.pause()
        facts = str(app.screen.query_one("#facts").render())
        assert "Enter to apply" in facts
        await pilot.press("tab")  # leave the field
        await settle(app, pilot)
        assert app.config.model == "Qwen/Qwen3-0.6B"
        assert "Enter to apply" not in str(app.screen.query_one("#facts").render())


async def test_short_terminal_has_flag_help_as_a_popup():
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        form_of(app).focus_flag("max_model_len")
        await pilot.pause()
        await pilot.press("f10")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "FlagHelpPopup"
        assert "--max-model-len" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfigureScreen"


def test_small_parameter_counts_read_in_m_and_k():
    assert count_text(8.19e9) == "8.19B"
    assert count_text(350e6) == "350.0M"
    assert count_text(4200) == "4.2K"
    assert count_text(12) == "12"


async def test_japanese_panel_titles():
    app = build_app()
    app.lang = "ja"
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        titles = {
            w.id: str(w.border_title)
            for w in app.screen.query("#form, #model, #findings, #preview, #help")
        }
        assert titles["form"].startswith("フラグ")
        assert titles["model"].startswith("モデル")
        assert titles["findings"].startswith("チェック")
        assert titles["preview"].startswith("コマンド")
        assert "ガイドのフラグ" in str(
            app.screen.query_one("#flag-list").render_line(0).text
        ) or any(r.key == "ガイドのフラグ" for r in form_of(app)._rows)


# -- the property: after any sequence of changes every field shows the config's value ----

NUMBERS = ["max_model_len", "tensor_parallel_size", "gpu_memory_utilization", "port", "seed"]
step = st.one_of(
    st.tuples(
        st.just("type"),
        st.sampled_from(NUMBERS + ["kv_cache_dtype", "host"]),
        st.sampled_from(["8192", "3", "0.8", "65536", "x1", "fp8", "0.0.0.0", ""]),
    ),
    st.tuples(st.just("fix"), st.none(), st.none()),
    st.tuples(
        st.just("import"),
        st.none(),
        st.sampled_from(
            [
                "vllm serve Qwen/Qwen3-8B --max-model-len 4096 --port 9000",
                "vllm serve Qwen/Qwen3-8B --kv-cache-dtype fp8 -tp 2 --enforce-eager",
                "vllm serve Qwen/Qwen3-8B --gpu-memory-utilization 0.5",
            ]
        ),
    ),
    st.tuples(st.just("profile"), st.sampled_from(NUMBERS), st.integers(1, 64)),
    st.tuples(st.just("reset"), st.none(), st.none()),
    st.tuples(st.just("toggle"), st.sampled_from(["enforce_eager", "enable_lora"]), st.none()),
)


async def run_steps(steps) -> None:
    from tui.core.importer import parse_command

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        for kind, key, arg in steps:
            if kind == "type":
                await typed(pilot, key, arg)
            elif kind == "fix":
                await pilot.press("ctrl+f")
            elif kind == "import":
                app.config = parse_command(arg)
            elif kind == "profile":
                spec = BY_DEST[key]
                value = arg / 64 if spec.kind == "float" else arg
                app.config = ServeConfig.build("Qwen/Qwen3-8B", {key: value})
            elif kind == "reset":
                app.config = ServeConfig("Qwen/Qwen3-8B")
            elif kind == "toggle":
                form_of(app).focus_flag(key)
                await pilot.pause()
                await pilot.press("space")
            await pilot.pause()
            await pilot.pause()
            assert mismatches(app) == [], (kind, key, arg)


@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a Pilot run takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(step, min_size=2, max_size=5))
def test_every_field_shows_the_config_after_any_changes(steps):
    asyncio.run(run_steps(steps))


async def test_a_port_in_use_is_a_check_with_a_free_port_as_its_fix():
    import socket

    from tui.adapters.launcher import port_in_use

    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            app.screen.port_probe = port_in_use  # demo services do not probe ports
            app.config = app.config.set("port", port)
            for _ in range(40):
                await pilot.pause(0.05)
                if "port-in-use" in {f.code for f in app.screen.query_one(FindingsPanel).findings}:
                    break
            finding = next(
                f for f in app.screen.query_one(FindingsPanel).findings if f.code == "port-in-use"
            )
            new_port = dict(finding.fix.set)["port"]
            assert new_port != port and not port_in_use("127.0.0.1", new_port)
            assert "{" not in finding.fix.label.en  # a sentence, never a Python dict
            app.screen.set_focus(None)
            await pilot.press("ctrl+f")
            await pilot.pause()
            await pilot.pause()
            assert app.config.get("port") == new_port
            assert form_of(app).shown_value("port") == str(new_port)


async def test_a_burst_of_changes_is_one_estimate():
    app = build_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        calls = []
        real = app.current_plan

        def counted():
            calls.append(app.config.get("max_model_len"))
            return real()

        app.current_plan = counted
        for text in ("6", "65", "655", "6553", "65536"):  # keys faster than frames
            app.set_flag("max_model_len", text)
        await pilot.pause()
        await pilot.pause()
        assert calls and set(calls) == {65536}  # no estimate for 6, 65, 655, 6553
        assert form_of(app).shown_value("max_model_len") == "65536"
