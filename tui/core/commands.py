"""Pure builders: ServeConfig -> argv, environment, YAML for `vllm serve --config`, shell script.

Rules (table-tested): only values that differ from vLLM's default are emitted; secrets never
reach argv or YAML, they travel in the environment; everything printable can be masked.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from tui.core.catalog import CATALOG, FlagSpec
from tui.core.config import MASK, ServeConfig
from tui.core.values import format_value, is_number

SERVE = ("vllm", "serve")
API_SERVER_MODULE = "vllm.entrypoints.openai.api_server"
SECRET_ENV = frozenset(spec.env for spec in CATALOG if spec.secret and spec.env) | {
    "HUGGING_FACE_HUB_TOKEN",
    "HF_API_TOKEN",
}


def emitted(cfg: ServeConfig, version: str | None = None) -> list[tuple[FlagSpec, Any]]:
    """Catalog flags that go on the command line, in catalog order."""
    out = []
    for spec in CATALOG:
        if spec.is_env_only or spec.env:
            continue
        if not cfg.is_set(spec.dest) and spec.tool_default is ...:
            continue  # unset = whatever the target vLLM defaults to
        value = cfg.get(spec.dest)
        if value is None or value == spec.default_for(version):
            continue
        if spec.kind == "bool" and value is False and not spec.negatable:
            continue
        out.append((spec, value))
    return out


def flag_args(spec: FlagSpec, value: Any) -> list[str]:
    assert spec.flag is not None
    if spec.kind == "bool":
        return [spec.flag] if value else ["--no-" + spec.flag[2:]]
    if spec.kind == "list":
        return [spec.flag, *map(str, value)]
    return [spec.flag, format_value(value)]


def build_args(cfg: ServeConfig, version: str | None = None) -> list[str]:
    """The flags after the model: `--max-model-len 8192 ... <passthrough>`."""
    args: list[str] = []
    for spec, value in emitted(cfg, version):
        args += flag_args(spec, value)
    return args + list(cfg.passthrough)


def build_argv(
    cfg: ServeConfig,
    prefix: Sequence[str] = SERVE,
    *,
    model_positional: bool = True,
    version: str | None = None,
) -> list[str]:
    """Full argv. `prefix` is how vLLM is started (`vllm serve` or `python -m ...api_server`)."""
    model = [cfg.model] if model_positional else ["--model", cfg.model]
    return [*prefix, *model, *build_args(cfg, version)]


def build_env(cfg: ServeConfig) -> dict[str, str]:
    """Environment variables the server needs, secrets included (unmasked)."""
    env: dict[str, str] = dict(cfg.env)
    for spec in CATALOG:
        if not spec.env:
            continue
        value = cfg.get(spec.dest)
        if value is None or value is False:
            continue
        env[spec.env] = spec.env_true if value is True else str(value)
    if cfg.cuda_visible_devices is not None:
        env["CUDA_VISIBLE_DEVICES"] = cfg.cuda_visible_devices
    return env


def mask_env(env: dict[str, str], show_secrets: bool = False) -> dict[str, str]:
    if show_secrets:
        return dict(env)
    return {k: (MASK if k in SECRET_ENV or _looks_secret(k) else v) for k, v in env.items()}


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in ("TOKEN", "SECRET", "PASSWORD", "API_KEY"))


def build_yaml_dict(cfg: ServeConfig, version: str | None = None) -> dict[str, Any]:
    """Mapping for a `vllm serve --config file.yaml` (no secrets: those stay in the env)."""
    data: dict[str, Any] = {"model": cfg.model}
    for spec, value in emitted(cfg, version):
        key = spec.flag[2:]  # type: ignore[index]
        data[key] = list(value) if spec.kind == "list" else value
    data.update(passthrough_to_yaml(cfg.passthrough))
    return data


def passthrough_to_yaml(tokens: Sequence[str]) -> dict[str, Any]:
    """`--foo 1 --bar --baz a b` -> {foo: "1", bar: true, baz: ["a", "b"]} (values as strings)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--"):
            i += 1
            continue
        if "=" in tok:
            key, value = tok[2:].split("=", 1)
            out[key] = value
            i += 1
            continue
        vals = []
        j = i + 1
        while j < len(tokens) and not tokens[j].startswith("-"):
            vals.append(tokens[j])
            j += 1
        key = tok[2:]
        out[key] = True if not vals else (vals[0] if len(vals) == 1 else vals)
        i = j
    return out


def dump_yaml(cfg: ServeConfig, version: str | None = None) -> str:
    import yaml

    header = "# vllm serve --config <this file>   (secrets are passed in the environment)\n"
    return header + yaml.safe_dump(
        build_yaml_dict(cfg, version), sort_keys=False, allow_unicode=True
    )


def shell_script(
    cfg: ServeConfig,
    prefix: Sequence[str] = SERVE,
    *,
    show_secrets: bool = False,
    version: str | None = None,
) -> str:
    """A copy-pasteable script: exports, then the command with one flag per line."""
    env = mask_env(build_env(cfg), show_secrets)
    lines = ["#!/usr/bin/env bash", "set -euo pipefail"]
    for key, value in env.items():
        if value == MASK:
            lines.append(f'export {key}="${{{key}:?set {key} in your environment}}"')
        else:
            lines.append(f"export {key}={shlex.quote(value)}")
    argv = build_argv(cfg, prefix, version=version)
    head = " ".join(shlex.quote(a) for a in argv[: len(prefix) + 1])
    rest = _pairs(argv[len(prefix) + 1 :])
    body = [head] + ["  " + " ".join(shlex.quote(a) for a in chunk) for chunk in rest]
    lines.append(" \\\n".join(body))
    return "\n".join(lines) + "\n"


def one_line(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def _pairs(args: Sequence[str]) -> list[list[str]]:
    """Group an argv tail into `--flag value...` chunks for one-flag-per-line display."""
    chunks: list[list[str]] = []
    for arg in args:
        if arg.startswith("-") and not is_number(arg) or not chunks:
            chunks.append([arg])
        else:
            chunks[-1].append(arg)
    return chunks
