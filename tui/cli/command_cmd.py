"""`vllm-tui command`: the exact vllm serve command, environment, YAML or script for a config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.cli.common import Parser, add_config_sources, build_config, installed_vllm, print_json
from tui.cli.nodes_opts import (
    BRINGUP_FORMATS,
    add_bringup_options,
    bringup_text,
    nodes_config,
    nodes_extra,
)
from tui.core.commands import build_argv, build_env, dump_yaml, mask_env, one_line, shell_script
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.validate import Context, validate

EXPORT_FORMATS = ("docker", "compose", "k8s")


def add_export_options(parser: Parser) -> None:
    group = parser.add_argument_group("docker / compose / k8s")
    group.add_argument(
        "--image", default="vllm/vllm-openai", help="container image (tag = vLLM version)"
    )
    group.add_argument("--name", default="vllm", help="container / service / Deployment name")
    group.add_argument(
        "--hf-cache",
        metavar="PATH|pvc:NAME[:SIZE]",
        help="HF cache to mount (default: this machine's HF_HOME); k8s: a hostPath or a PVC",
    )
    group.add_argument(
        "--env-file",
        metavar="FILE",
        help="docker/compose: read secrets from FILE instead of -e NAME",
    )
    group.add_argument(
        "--startup-timeout",
        type=int,
        default=1800,
        metavar="S",
        help="seconds a model may take to download and load (k8s startupProbe, compose start_period)",
    )
    group.add_argument("--namespace", help="k8s namespace")


def export_text(ns: argparse.Namespace, cfg: ServeConfig, version: str | None) -> str:
    import os

    from tui.core.exports import Target, compose_yaml, docker_text, k8s_yaml

    if ns.startup_timeout < 60:
        raise UserError("--startup-timeout must be at least 60 seconds")
    hf_cache = (
        ns.hf_cache or os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface")
    )
    if not hf_cache.startswith("pvc:"):
        hf_cache = os.path.abspath(os.path.expanduser(hf_cache))
    target = Target(
        version=version,
        image=ns.image,
        name=ns.name,
        hf_cache=hf_cache,
        env_file=ns.env_file,
        startup_s=ns.startup_timeout,
        nodes=int(getattr(ns, "nodes", None) or 1),
        namespace=ns.namespace,
    )
    build = {"docker": docker_text, "compose": compose_yaml, "k8s": k8s_yaml}[ns.format]
    return build(cfg, target)


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
        usage="vllm-tui command MODEL [vllm serve flags] [--format shell|yaml|json|argv|docker|compose|k8s] [--show-secrets]",
    )
    parser.add_argument(
        "--format",
        choices=("shell", "yaml", "json", "argv", *EXPORT_FORMATS, *BRINGUP_FORMATS),
        default="shell",
        help="docker: a `docker run`; compose: a compose.yaml service; k8s: Deployment + Service "
        "(a LeaderWorkerSet for several nodes)",
    )
    parser.add_argument(
        "--show-secrets", action="store_true", help="print secret values instead of masking them"
    )
    parser.add_argument(
        "--vllm-version", metavar="V", help="target vLLM version (defaults differ between releases)"
    )
    add_export_options(parser)
    add_bringup_options(parser)
    add_config_sources(parser)
    ns, rest = parser.parse_known_args(list(argv))
    cfg = nodes_config(ns, build_config(ns, rest))
    version, known = installed_vllm_options(ns.vllm_version)
    findings = validate(
        cfg,
        Context(
            vllm_version=ns.vllm_version or version,
            known_options=known,
            extra=nodes_extra(ns, cfg),
        ),
    )
    argv_out = build_argv(cfg, version=ns.vllm_version)
    env = mask_env(build_env(cfg), ns.show_secrets)
    if ns.format in BRINGUP_FORMATS:
        sys.stdout.write(bringup_text(ns, cfg, ns.vllm_version))
    elif ns.format in EXPORT_FORMATS:
        sys.stdout.write(export_text(ns, cfg, ns.vllm_version or version))
    elif ns.format == "json":
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
