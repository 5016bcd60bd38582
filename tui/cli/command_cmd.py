"""`vllm-tui command`: the exact vllm serve command, environment, YAML or script for a config."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.cli.common import Parser, add_config_sources, build_config, print_json
from tui.core.commands import build_argv, build_env, dump_yaml, mask_env, one_line, shell_script
from tui.core.validate import Context, validate


def main(_name: str, argv: Sequence[str]) -> int:
    parser = Parser(
        prog="vllm-tui command",
        description="Build the vllm serve command for MODEL and flags (secrets go to the environment).",
        usage="vllm-tui command MODEL [vllm serve flags] [--format shell|yaml|json|argv] [--show-secrets]",
    )
    parser.add_argument("--format", choices=("shell", "yaml", "json", "argv"), default="shell")
    parser.add_argument("--show-secrets", action="store_true", help="print secret values instead of masking them")
    parser.add_argument("--vllm-version", metavar="V", help="target vLLM version (defaults differ between releases)")
    add_config_sources(parser)
    ns, rest = parser.parse_known_args(list(argv))
    cfg = build_config(ns, rest)
    findings = validate(cfg, Context(vllm_version=ns.vllm_version))
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
