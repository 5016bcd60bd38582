"""`vllm-tui run | ps | stop | attach`: the vLLM process lifecycle from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from tui.cli.common import (
    Parser,
    add_config_sources,
    build_config,
    clean,
    installed_vllm,
    print_json,
    table,
)
from tui.cli.run_follow import emit, follow
from tui.core.errors import UserError


def main(name: str, argv: Sequence[str]) -> int:
    if name == "ps":
        return _ps(argv)
    if name == "stop":
        return _stop(argv)
    if name == "attach":
        return _attach(argv)
    return _run(argv)


def _ps(argv: Sequence[str]) -> int:
    parser = Parser(prog="vllm-tui ps", description="List runs (alive or not).")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--all", action="store_true", help="include finished runs")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="delete finished runs beyond --keep and older than --keep-days first",
    )
    parser.add_argument("--keep", type=_count, default=None, metavar="N")
    parser.add_argument("--keep-days", type=_days, default=None, metavar="DAYS")
    ns = parser.parse_args(list(argv))
    from tui.adapters.runs import list_runs, process_table, prune, prune_limits

    if ns.prune:
        keep, days = prune_limits(ns.keep, ns.keep_days)
        for run_id in prune(keep, days):
            print(f"pruned {clean(run_id)}", file=sys.stderr)
    table_now = process_table()
    rows: list[dict[str, Any]] = []
    for run in list_runs():
        alive = run.alive(table_now)
        if not alive and not ns.all and not ns.json:
            continue
        exit_info = (run.exit_info() or {}) if not alive else {}
        rows.append(
            {
                "id": run.id,
                "model": run.model,
                "alive": alive,
                "url": run.url,
                "pgid": run.pgid,
                "exit_code": exit_info.get("code"),
                "stop_requested": exit_info.get("stop_requested"),
                "created": run.info.get("created"),
                "log": str(run.log_path),
            }
        )
    if ns.json:
        print_json(rows)
        return 0
    if not rows:
        print("no running servers (vllm-tui ps --all lists finished runs)")
        return 0
    print(
        table(
            [[r["id"], r["model"], _state_word(r), r["url"]] for r in rows],
            ["run", "model", "state", "url"],
        )
    )
    return 0


def _state_word(row: dict[str, Any]) -> str:
    if row["alive"]:
        return "running"
    code = row["exit_code"]
    if code is None:
        return "gone"
    return f"exited {code}" + (" (stopped)" if row["stop_requested"] else "")


def _count(text: str) -> int:
    value = int(text) if text.isdigit() and len(text) < 7 else -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number up to 999999, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 86400, got {text!r}")
    return value


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"expected days between 0 and 36500, got {text!r}")
    return value


def _stop(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui stop",
        description="Stop a run: SIGINT, then SIGTERM, then SIGKILL to its whole process group.",
    )
    parser.add_argument("run", nargs="?", help="run id or prefix (default: the newest running one)")
    parser.add_argument(
        "--timeout", type=_seconds, default=30.0, help="seconds to wait for a graceful stop"
    )
    ns = parser.parse_args(list(argv))
    from tui.adapters.runs import find_run, stop

    run = find_run(ns.run)
    if not run.alive():
        print(f"run {clean(run.id)} is not running")
        return 0
    left = stop(run, grace_int=ns.timeout)
    if left:
        print(f"run {clean(run.id)}: processes still present: {left}", file=sys.stderr)
        return 1
    print(f"stopped {clean(run.id)}")
    return 0


def _attach(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui attach",
        description="Re-open a running server in the app (or follow it headless).",
    )
    parser.add_argument("run", nargs="?", help="run id or prefix (default: the newest running one)")
    parser.add_argument(
        "--headless", action="store_true", help="print events instead of opening the app"
    )
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args(list(argv))
    from tui.adapters.runs import find_run

    run = find_run(ns.run)
    if ns.headless:
        return asyncio.run(follow(run, json_out=ns.json, detach=False, owns=False))
    from tui.cli.app_cmd import main as app_main

    return app_main(["--attach", run.id])


SECRET_FLAGS = {"--api-key": "VLLM_API_KEY", "--hf-token": "HF_TOKEN"}
"""Serve flags whose value is a secret, and the variable that carries it instead."""


def scrub_secret_args(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """`args` without secret flags (`--api-key K`, `--api-key=K`) and those values as env vars."""
    out: list[str] = []
    env: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in SECRET_FLAGS and eq:
            env[SECRET_FLAGS[name]] = value
        elif arg in SECRET_FLAGS and i + 1 < len(args):
            env[SECRET_FLAGS[arg]] = args[i + 1]
            i += 1
        else:
            out.append(arg)
        i += 1
    return out, env


def _hide_typed_secrets(argv: Sequence[str]) -> None:
    """A secret typed on our command line is visible in `ps` for the whole run: warn, and
    start again with it moved into the environment (our argv no longer holds it)."""
    import os

    _, found = scrub_secret_args(argv)
    if not found:
        return
    names = ", ".join(f for f in SECRET_FLAGS if SECRET_FLAGS[f] in found)
    print(
        f"warning: {names} on the command line is visible to every user (ps, /proc); "
        "set VLLM_API_KEY / HF_TOKEN in the environment or use --api-key-file instead",
        file=sys.stderr,
    )
    real = sys.argv[1:]
    clean_args, env_add = scrub_secret_args(real)
    if os.environ.get("VLLM_TUI_SCRUBBED") or not env_add:
        return  # called in-process (tests) or already re-executed: nothing to scrub
    env = {**os.environ, **env_add, "VLLM_TUI_SCRUBBED": "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "tui", *clean_args], env)


def _secrets_from_env(cfg: Any, key_file: str | None) -> Any:
    """The API key from --api-key-file or VLLM_API_KEY, the HF token from HF_TOKEN."""
    import os

    if key_file:
        try:
            with open(key_file, encoding="utf-8") as fh:
                key = fh.read(4097).strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UserError(f"--api-key-file {key_file}: {reason}") from None
        if not key or len(key) > 4096 or any(ch.isspace() for ch in key):
            raise UserError(f"--api-key-file {key_file}: expected one key on one line (no spaces)")
        cfg = cfg.set("api_key", key)
    for dest, var in (("api_key", "VLLM_API_KEY"), ("hf_token", "HF_TOKEN")):
        if not cfg.get(dest) and os.environ.get(var):
            cfg = cfg.set(dest, os.environ[var])
    return cfg


def _run(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui run",
        description="Launch vLLM for MODEL with serve flags and print its events until it exits "
        "(Ctrl-C stops it cleanly). The API key comes from VLLM_API_KEY or --api-key-file, "
        "the Hugging Face token from HF_TOKEN.",
        usage="vllm-tui run MODEL [vllm serve flags] [--vllm PATH] [--headless] [--json] [--detach]",
    )
    parser.add_argument(
        "--vllm", metavar="PATH", help="a vllm executable or a python that has vllm"
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no UI: print events (the default for `run` in this version)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--detach", action="store_true", help="return once ready and leave the server running"
    )
    parser.add_argument(
        "--force", action="store_true", help="launch even when pre-flight checks fail"
    )
    parser.add_argument(
        "--ready-timeout",
        type=_seconds,
        default=1800.0,
        help="give up if not ready after this many seconds",
    )
    parser.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE (keeps it off every command line)",
    )
    add_config_sources(parser)
    ns, rest = parser.parse_known_args(list(argv))
    _hide_typed_secrets(rest)
    if ns.from_command:
        import shlex

        try:
            pasted = shlex.split(ns.from_command)
        except ValueError:
            pasted = []
        if scrub_secret_args(pasted)[1]:
            print(
                "warning: the pasted command holds a secret, visible in vllm-tui's command "
                "line: set VLLM_API_KEY / HF_TOKEN in the environment instead",
                file=sys.stderr,
            )
    cfg = _secrets_from_env(build_config(ns, rest), ns.api_key_file)
    from tui.adapters import gpus as gpu_adapter
    from tui.adapters.launcher import launch, preflight

    install = installed_vllm(ns.vllm)
    if install is None:
        raise UserError("no vLLM found: install it (pip install vllm) or pass --vllm PATH")
    snapshot = gpu_adapter.probe() if install.device == "cuda" else None
    checks = preflight(cfg, snapshot)
    for c in checks:
        print(f"{c.level}: {c.message}" + (f" (try {c.fix})" if c.fix else ""), file=sys.stderr)
    if any(c.level == "error" for c in checks) and not ns.force:
        raise UserError("pre-flight failed (use --force to launch anyway)")
    from tui.adapters.introspect import access_log_filter_args

    run = launch(
        cfg, install, extra_args=access_log_filter_args(install, cfg.passthrough), force=ns.force
    )
    emit(
        ns.json,
        {
            "type": "run",
            "id": run.id,
            "log": str(run.log_path),
            "url": run.url,
            "argv": run.info["argv"],
        },
    )
    ready = False
    try:
        code = asyncio.run(
            follow(
                run,
                json_out=ns.json,
                detach=ns.detach,
                owns=True,
                api_key=cfg.get("api_key"),
                ready_timeout=ns.ready_timeout,
            )
        )
        ready = ns.detach and code == 0
        return code
    finally:
        # Whatever happened here (a bug, Ctrl-C mid-way), a server we own never outlives
        # us unless it was detached on purpose once ready.
        if not ready and run.alive():
            from tui.adapters.runs import stop

            stop(run)
