"""Import: a pasted `vllm serve ...` command line or a vLLM YAML config -> ServeConfig.

Accepts what people actually paste: `$ ` prompts, `VAR=x` prefixes, backslash continuations,
`--flag=value`, `--flag_name`, `-tp 2`, `--no-x`, quoting, `python -m
vllm.entrypoints.openai.api_server --model X`, `docker run ... vllm/vllm-openai ...`.
Flags the catalog does not model are kept verbatim (passthrough), never dropped.
Any problem is a UserError with one clear sentence.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from tui.core.bounds import check_serve_bounds
from tui.core.catalog import BY_DEST, BY_ENV, lookup_option, normalise_option
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.values import is_number

_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_API_SERVER_MODULES = ("vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server")
_TOKEN_ENVS = {"HF_TOKEN": "hf_token", "HUGGING_FACE_HUB_TOKEN": "hf_token"}

#: nargs of options we know from an installed vLLM (option -> "0", "1", "+", "?" ...).
OptionArity = Mapping[str, str]


def split_command(text: str) -> list[str]:
    """Shell-split a pasted command (continuations, comments, prompts)."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("the command line is empty")
    cleaned = re.sub(r"\\\r?\n", " ", text)
    cleaned = "\n".join(re.sub(r"^\s*[$#>]\s+", "", line) for line in cleaned.splitlines())
    try:
        return shlex.split(cleaned, comments=True)
    except ValueError as exc:
        raise UserError(f"cannot read the command line: {exc} (check the quotes)") from None


def parse_command(
    text: str, arity: OptionArity | None = None, cwd: str | None = None
) -> ServeConfig:
    """A pasted command line -> ServeConfig."""
    tokens = split_command(text)
    env, args = _find_vllm_args(tokens)
    return parse_args(args, env=env, arity=arity, cwd=cwd)


def parse_args(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    arity: OptionArity | None = None,
    cwd: str | None = None,
) -> ServeConfig:
    """The arguments after `vllm serve` -> ServeConfig."""
    model: str | None = None
    values: dict[str, Any] = {}
    passthrough: list[str] = []
    config_file: str | None = None
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if not tok.startswith("-") or is_number(tok):
            if model is None:
                model = tok
            else:
                passthrough.append(tok)
            continue
        name, eq, value = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        inline: str | None = value if eq else None
        option = normalise_option(name)
        if option == "--model":
            model, i = _value(option, inline, args, i)
            continue
        if option == "--config":
            config_file, i = _value(option, inline, args, i)
            continue
        found = lookup_option(option)
        if found is None:
            passthrough.append(option)
            taken, i = _unknown_values(option, inline, args, i, arity)
            passthrough += taken
            continue
        spec, negated = found
        if spec.kind == "bool":
            if inline is not None:
                raise UserError(f"{option} takes no value (got {inline!r})")
            values[spec.dest] = not negated
        elif spec.kind == "list":
            items = [inline] if inline is not None else []
            while inline is None and i < len(args) and not args[i].startswith("-"):
                items.append(args[i])
                i += 1
            if not items:
                raise UserError(f"{option} needs at least one value")
            values[spec.dest] = items
        else:
            values[spec.dest], i = _value(option, inline, args, i)
    if config_file is not None:
        base = load_yaml_file(config_file if cwd is None else os.path.join(cwd, config_file))
        model = model or base.model
        merged = base.as_dict() | values
        passthrough = list(base.passthrough) + passthrough
        values = merged
    if model is None:
        raise UserError("no model in the command line (expected `vllm serve MODEL ...`)")
    cfg = ServeConfig.build(model, passthrough=passthrough).update(values)
    check_serve_bounds(dict(cfg.values), BY_DEST)
    return _apply_env(cfg, env or {})


def _apply_env(cfg: ServeConfig, env: Mapping[str, str]) -> ServeConfig:
    extra: dict[str, str] = {}
    for key, value in env.items():
        if key == "CUDA_VISIBLE_DEVICES":
            cfg = cfg.with_gpus(value)
        elif key in BY_ENV:
            cfg = cfg.set(BY_ENV[key].dest, value)
        elif key in _TOKEN_ENVS:
            cfg = cfg.set(_TOKEN_ENVS[key], value)
        else:
            extra[key] = value
    return cfg.with_env(extra) if extra else cfg


def _value(option: str, inline: str | None, args: Sequence[str], i: int) -> tuple[str, int]:
    if inline is not None:
        return inline, i
    if i >= len(args):
        raise UserError(f"{option} needs a value")
    return args[i], i + 1


def _unknown_values(
    option: str, inline: str | None, args: Sequence[str], i: int, arity: OptionArity | None
) -> tuple[list[str], int]:
    if inline is not None:
        return [inline], i
    nargs = (arity or {}).get(option)
    if nargs == "0":
        return [], i
    taken: list[str] = []
    while i < len(args) and (not args[i].startswith("-") or is_number(args[i])):
        taken.append(args[i])
        i += 1
        if nargs in (None, "1", "?"):
            break
    return taken, i


def _find_vllm_args(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """Locate where vLLM's own arguments start; collect `VAR=value` / docker `-e` env."""
    env: dict[str, str] = {}
    i = 0
    while i < len(tokens) and (_ASSIGN.match(tokens[i]) or tokens[i] in ("env", "export", "sudo")):
        if _ASSIGN.match(tokens[i]):
            key, value = tokens[i].split("=", 1)
            env[key] = value
        i += 1
    rest = tokens[i:]
    for j, tok in enumerate(rest):
        base = os.path.basename(tok)
        if base == "vllm" and j + 1 < len(rest) and rest[j + 1] == "serve":
            return env, rest[j + 2 :]
        if tok == "-m" and j + 1 < len(rest):
            module = rest[j + 1]
            if module in _API_SERVER_MODULES:
                return env, rest[j + 2 :]
            if (
                module == "vllm.entrypoints.cli.main"
                and j + 2 < len(rest)
                and rest[j + 2] == "serve"
            ):
                return env, rest[j + 3 :]
        if "vllm-openai" in tok and j > 0:
            env.update(_docker_env(rest[:j]))
            return env, rest[j + 1 :]
    if rest and (
        rest[0].startswith("--") or len(rest) > 1 and rest[1].startswith("--") and "/" in rest[0]
    ):
        # Bare arguments (`--model X ...` or `org/model --flag ...`) are accepted too.
        return env, rest
    raise UserError(
        "not a vLLM command: expected `vllm serve MODEL ...` or `python -m vllm.entrypoints.openai.api_server ...`"
    )


def _docker_env(tokens: Sequence[str]) -> dict[str, str]:
    env = {}
    for k, tok in enumerate(tokens):
        if tok in ("-e", "--env") and k + 1 < len(tokens) and "=" in tokens[k + 1]:
            key, value = tokens[k + 1].split("=", 1)
            env[key] = value
        elif tok.startswith("--env="):
            key, _, value = tok[6:].partition("=")
            env[key] = value
    return env


# -- YAML ---------------------------------------------------------------------------------


def parse_yaml(text: str) -> ServeConfig:
    """A vLLM `--config` YAML document -> ServeConfig (same key rules as vLLM's loader)."""
    data = _safe_yaml(text)
    if not isinstance(data, dict):
        raise UserError("the YAML config must be a mapping of `flag-name: value`")
    args: list[str] = []
    model = data.pop("model", None) if "model" in data else data.pop("model-tag", None)
    if model is not None:
        if not isinstance(model, str | int | float) or isinstance(model, bool):
            raise UserError("`model` in the YAML config must be a string")
        args.append(str(model))
    for key, value in data.items():
        if not isinstance(key, str) or not key.strip():
            raise UserError(f"YAML key {key!r} is not a flag name")
        flag = "--" + key
        if isinstance(value, bool):
            known = lookup_option(normalise_option(flag))
            if value:
                args.append(flag)
            elif known is None or known[0].negatable:
                args.append("--no-" + key)
        elif isinstance(value, list):
            if value:
                args.append(flag)
                args += [_scalar(key, v) for v in value]
        elif isinstance(value, dict):
            args += [flag, json.dumps(value)]
        elif value is None:
            continue
        else:
            args += [flag, _scalar(key, value)]
    return parse_args(args)


MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_DEPTH = 32


def _safe_yaml(text: str) -> Any:
    """yaml.safe_load without aliases (no billion-laughs), a depth cap and a size cap."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise UserError(f"the YAML config is larger than {MAX_YAML_BYTES // 2**20} MB")
    try:
        # Parse events first: aliases and deep nesting are refused before anything is built.
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise UserError("the YAML config uses an alias (*name); write the value out")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise UserError(f"the YAML config is nested more than {MAX_YAML_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"the YAML config is not valid YAML{where}") from None
    except RecursionError:
        raise UserError("the YAML config is nested too deeply") from None


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def load_yaml_file(path: str) -> ServeConfig:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a UTF-8 text file") from None
    return parse_yaml(text)
