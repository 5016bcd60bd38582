"""`vllm-tui` command line: with no subcommand it opens the app; subcommands script it.

Every error a person can cause is one line on stderr and exit code 2; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.core.errors import UserError

SUBCOMMANDS = {
    "flags": (
        "tui.cli.flags_cmd",
        "list the flag catalog (curated, or every flag of the installed vLLM)",
    ),
    "command": (
        "tui.cli.command_cmd",
        "build the vllm serve command, env, YAML or script for a config",
    ),
    "estimate": ("tui.cli.estimate_cmd", "predict VRAM and KV-cache capacity for a config"),
    "gpus": ("tui.cli.gpus_cmd", "detected GPUs and host memory"),
    "run": ("tui.cli.run_cmd", "launch vLLM headless and print its events"),
    "ps": ("tui.cli.run_cmd", "list runs (alive or not)"),
    "stop": ("tui.cli.run_cmd", "stop a run"),
    "attach": ("tui.cli.run_cmd", "re-open a running server in the app"),
    "cluster": ("tui.cli.cluster_cmd", "list a Ray cluster's nodes and GPUs"),
    "watch": ("tui.cli.watch_cmd", "monitor vLLM servers we did not start, from their HTTP API"),
    "lora": ("tui.cli.lora_cmd", "list, load and unload LoRA adapters on a running server"),
    "parse-log": (
        "tui.cli.parse_log_cmd",
        "explain a vLLM log: phases, memory report, throughput, errors",
    ),
}

USAGE = """usage: vllm-tui [--demo] [--lang en|ja] [--vllm PATH]      open the app
       vllm-tui SUBCOMMAND ...                            (see `vllm-tui SUBCOMMAND --help`)

subcommands:
""" + "\n".join(f"  {name:<10} {help_}" for name, (_, help_) in SUBCOMMANDS.items())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"vllm-tui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: one line for the user, details in a file
        where = _save_traceback()
        print(
            f"vllm-tui: internal error: {type(exc).__name__}: {exc} (details: {where})",
            file=sys.stderr,
        )
        return 1


def _looks_like_model(arg: str) -> bool:
    """An HF id (org/name) or a local model directory, not a mistyped subcommand."""
    import os

    return "/" in arg or os.path.isdir(arg)


def _save_traceback() -> str:
    import traceback

    try:
        from tui.adapters.settings import state_dir

        path = state_dir() / "crash.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            traceback.print_exc(file=fh)
        return str(path)
    except Exception:
        return "unavailable"


def _dispatch(args: list[str]) -> int:
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if args and args[0] == "--version":
        from tui import __version__

        print(f"vllm-tui {__version__}")
        return 0
    if args and not args[0].startswith("-"):
        name = args[0]
        if name not in SUBCOMMANDS and _looks_like_model(name):
            return _app(args)  # `vllm-tui MODEL`, as `vllm serve MODEL`
        if name not in SUBCOMMANDS:
            raise UserError(f"unknown subcommand {name!r} (one of: {', '.join(SUBCOMMANDS)})")
        import importlib

        module = importlib.import_module(SUBCOMMANDS[name][0])
        return int(module.main(name, args[1:]) or 0)
    return _app(args)


def _app(args: list[str]) -> int:
    from tui import gc_pause

    gc_pause.pause()  # until the first frame (see tui.gc_pause)
    try:
        from tui.cli.app_cmd import main as app_main

        return app_main(args)
    finally:
        gc_pause.resume()  # an app that never drew (bad input, an error) collects again
