"""Pure builders: ServeConfig -> argv, environment, YAML for `vllm serve --config`, shell script.

Rules (table-tested): only values that differ from vLLM's default are emitted; secrets never
reach argv or YAML, they travel in the environment; everything printable can be masked.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
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
    env = mask_env(build_env(cfg))
    if env:  # a YAML config cannot hold the environment: say what the server needs
        header += "# environment the server needs (set before `vllm serve`):\n"
        header += "".join(
            f"#   {k}  (secret: must be set in your environment; not written here)\n"
            if v == MASK
            else f"#   export {k}={shlex.quote(v)}\n"
            for k, v in env.items()
        )
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
    lines = ["#!/usr/bin/env bash", "set -euo pipefail"]
    lines += export_lines(mask_env(build_env(cfg), show_secrets))
    lines.append(multiline(build_argv(cfg, prefix, version=version), len(prefix) + 1))
    return "\n".join(lines) + "\n"


def export_lines(env: dict[str, str]) -> list[str]:
    """`export` lines; a masked secret must come from the caller's environment."""
    lines = []
    for key, value in env.items():
        if value == MASK:
            lines.append(f'export {key}="${{{key}:?set {key} in your environment}}"')
        else:
            lines.append(f"export {key}={shlex.quote(value)}")
    return lines


def multiline(argv: Sequence[str], head: int) -> str:
    """The command with its first `head` words on one line, then one flag per line."""
    first = " ".join(shlex.quote(a) for a in argv[:head])
    body = [first] + ["  " + " ".join(shlex.quote(a) for a in c) for c in _pairs(argv[head:])]
    return " \\\n".join(body)


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


# -- several nodes: the bring-up, one script per node ------------------------------------

RAY_PORT = 6379
MASTER_PORT = 29500
HEAD_PLACEHOLDER = "HEAD_IP"


@dataclass(frozen=True)
class NodeScript:
    """What to run on one node; `serve` is its `vllm serve` argv, when it runs one."""

    node: int
    role: str
    """"head" or "worker"."""
    script: str
    serve: tuple[str, ...] | None = None


def _network_lines(ifname: str | None) -> list[str]:
    if ifname:
        return [
            f"export NCCL_SOCKET_IFNAME={shlex.quote(ifname)}",
            f"export GLOO_SOCKET_IFNAME={shlex.quote(ifname)}",
        ]
    return [
        "# With several network interfaces, name the one that reaches the other nodes:",
        "# export NCCL_SOCKET_IFNAME=eth0 GLOO_SOCKET_IFNAME=eth0",
    ]


def _node_header(node: int, nodes: int, role: str, env: dict[str, str], ifname: str | None) -> list[str]:  # fmt: skip
    return [
        f"# ---- node {node} of {nodes} ({role}) ----",
        "set -euo pipefail",
        *_network_lines(ifname),
        "# and, when vLLM picks the wrong address, this node's own IP on it:",
        "# export VLLM_HOST_IP=<this node's IP>",
        *export_lines(env),
    ]


def ray_bringup(
    cfg: ServeConfig,
    nodes: int,
    gpus_per_node: int,
    *,
    head: str = HEAD_PLACEHOLDER,
    port: int = RAY_PORT,
    ifname: str | None = None,
    show_secrets: bool = False,
    version: str | None = None,
    prefix: Sequence[str] = SERVE,
) -> list[NodeScript]:
    """vLLM's Ray recipe: `ray start` on every node, then `vllm serve ... --distributed-executor-
    backend ray` on the head (TP = GPUs per node and PP = nodes unless the config says)."""
    from tui.core.multinode import default_layout

    serve_cfg = default_layout(cfg, nodes, gpus_per_node).set("distributed_executor_backend", "ray")
    env = mask_env(build_env(serve_cfg), show_secrets)
    argv = tuple(build_argv(serve_cfg, prefix, version=version))
    workers = nodes - 1
    head_lines = [
        *_node_header(0, nodes, "head", env, ifname),
        f"ray start --head --port {port}",
        f"# Wait until the {workers} worker node(s) joined: `ray status` lists {nodes} nodes "
        f"and {nodes * gpus_per_node} GPUs.",
        multiline(argv, len(prefix) + 1),
    ]
    out = [NodeScript(0, "head", "\n".join(head_lines) + "\n", argv)]
    for node in range(1, nodes):
        lines = [
            *_node_header(node, nodes, "worker", env, ifname),
            f"ray start --address {head}:{port}",
        ]
        out.append(NodeScript(node, "worker", "\n".join(lines) + "\n"))
    return out


def nodes_bringup(
    cfg: ServeConfig,
    nodes: int,
    gpus_per_node: int,
    *,
    head: str = HEAD_PLACEHOLDER,
    port: int = MASTER_PORT,
    ifname: str | None = None,
    show_secrets: bool = False,
    version: str | None = None,
    prefix: Sequence[str] = SERVE,
) -> list[NodeScript]:
    """vLLM's own multi-node mode (no Ray): one `vllm serve` per node with --nnodes,
    --node-rank, --master-addr and --master-port; the followers run --headless."""
    from tui.core.multinode import default_layout

    serve_cfg = default_layout(cfg, nodes, gpus_per_node)
    if serve_cfg.get("distributed_executor_backend") == "ray":
        serve_cfg = serve_cfg.unset("distributed_executor_backend")
    env = mask_env(build_env(serve_cfg), show_secrets)
    base = build_argv(serve_cfg, prefix, version=version)
    out = []
    for node in range(nodes):
        argv = (
            *base,
            *("--nnodes", str(nodes), "--node-rank", str(node)),
            *("--master-addr", head, "--master-port", str(port)),
            *(("--headless",) if node else ()),
        )
        role = "head" if node == 0 else "worker"
        lines = [*_node_header(node, nodes, role, env, ifname), multiline(argv, len(prefix) + 1)]
        out.append(NodeScript(node, role, "\n".join(lines) + "\n", argv))
    return out


def render_bringup(scripts: Sequence[NodeScript]) -> str:
    """All nodes' scripts, one after the other, each under its own heading."""
    return "#!/usr/bin/env bash\n# Run each node's part on that node.\n\n" + "\n".join(
        s.script for s in scripts
    )
