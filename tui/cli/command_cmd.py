"""`vllm-tui command`: the exact vllm serve command, environment, YAML or script for a config."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.cli.common import Parser, add_config_sources, build_config, installed_vllm, print_json
from tui.core.commands import build_argv, build_env, dump_yaml, mask_env, one_line, shell_script
from tui.core.validate import Context, validate


def installed_vllm_options(version: str | None) -> tuple[str | None, frozenset[str] | None]:
    """The installed vLLM's version and option names (cached), when one is installed and no
    other target version was asked for."""
    install = installed_vllm()
    if install is None or (version and version != install.version):
        return None, None
    from tui.adapters.introspect import cached_options, dump_options, option_names

    options = cached_options(install)
    if options is None:
        print(
            f"reading the options of the installed vLLM {install.version} (once) ...",
            file=sys.stderr,
        )
        try:
            options = dump_options(install)
        except Exception:
            return install.version, None
    return install.version, option_names(options)


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui command",
        description="Build the vllm serve command for MODEL and flags (secrets go to the environment).",
        usage="vllm-tui command MODEL [vllm serve flags] [--format shell|yaml|json|argv] [--show-secrets]",
    )
    parser.add_argument("--format", choices=("shell", "yaml", "json", "argv"), default="shell")
    parser.add_argument(
        "--show-secrets", action="store_true", help="print secret values instead of masking them"
    )
    parser.add_argument(
        "--vllm-version", metavar="V", help="target vLLM version (defaults differ between releases)"
    )
    add_config_sources(parser)
    ns, rest = parser.parse_known_args(list(argv))
    cfg = build_config(ns, rest)
    version, known = installed_vllm_options(ns.vllm_version)
    findings = validate(cfg, Context(vllm_version=ns.vllm_version or version, known_options=known))
    argv_out = build_argv(cfg, version=ns.vllm_version)
    env = mask_env(build_env(cfg), ns.show_secrets)
    if ns.format == "json":
        print_json({"argv": argv_out, "env": env, "findings": [f.as_json() for f in findings]})
    elif ns.format == "yaml":
        sys.stdout.write(dump_yaml(cfg, version=ns.vllm_version))
    elif ns.format == "argv":
        print(one_line(argv_out))
    else:
        sys.stdout.write(shell_script(cfg, show_secrets=ns.show_secrets, version=ns.vllm_version))
    if ns.format != "json":
        for f in findings:
            print(f"{f.level}: {f.message.en}", file=sys.stderr)
    return 2 if any(f.level == "error" for f in findings) else 0
