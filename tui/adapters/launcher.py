"""Launch a ServeConfig as a vLLM server: pre-flight checks, environment, run directory.

Secrets travel only in the child's environment; argv and run.json never hold them (checked
here again before anything starts, token by token). Every run carries a random identity
token in its environment (tui.adapters.identity) and reserves its port (tui.adapters.ports). CUDA_DEVICE_ORDER=PCI_BUS_ID makes CUDA's GPU indices
match NVML's, so the GPUs chosen in the app are the ones vLLM gets.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from tui.adapters import ports, runs
from tui.adapters.gpus import GpuSnapshot
from tui.adapters.identity import TOKEN_ENV, new_token
from tui.adapters.vllm_env import VllmInstall
from tui.core.catalog import CATALOG
from tui.core.commands import build_argv, build_env
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.gpu_catalog import GiB


@dataclass(frozen=True)
class Check:
    level: str
    message: str
    fix: dict[str, object] | None = None


def port_in_use(host: str | None, port: int) -> bool:
    """True when something already listens on host:port (a bind test, no traffic)."""
    family = socket.AF_INET6 if host and ":" in host else socket.AF_INET
    addr = (
        host
        if host not in (None, "", "0.0.0.0")
        else ("::" if family == socket.AF_INET6 else "0.0.0.0")
    )
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def free_port(host: str | None, start: int) -> int:
    for port in range(start, min(start + 200, 65536)):
        if not port_in_use(host, port):
            return port
    raise UserError(f"no free port near {start}")


def base_url(cfg: ServeConfig) -> str:
    host = cfg.get("host") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{cfg.get('port')}"


def preflight(
    cfg: ServeConfig, snapshot: GpuSnapshot | None, chosen: Sequence[str] | None = None
) -> list[Check]:
    """Problems that would make vLLM fail at once: port taken, model folder unreadable, GPU busy."""
    out: list[Check] = []
    port = int(cfg.get("port"))
    if port_in_use(cfg.get("host"), port):
        alt = free_port(cfg.get("host"), port + 1)
        out.append(Check("error", f"port {port} is already in use", {"port": alt}))
    model = cfg.model
    if model.startswith(("/", "./", "../", "~")) or os.path.isdir(model):
        path = os.path.expanduser(model)
        if not os.path.isdir(path) or not os.access(path, os.R_OK | os.X_OK):
            out.append(Check("error", f"model folder {model} is not readable"))
    if snapshot is not None and snapshot.gpus:
        util = float(cfg.get("gpu_memory_utilization"))
        for gpu in snapshot.chosen(tuple(chosen) if chosen else None):
            if gpu.memory_total_bytes is None or gpu.memory_free_bytes is None:
                continue
            want = util * gpu.memory_total_bytes
            if gpu.memory_free_bytes < want and not cfg.is_set("kv_cache_memory_bytes"):
                holders = ", ".join(
                    f"{p.name or '?'} (pid {p.pid}, {(p.used_bytes or 0) / GiB:.1f} GiB{', yours' if p.mine else ', another user' if p.mine is False else ''})"
                    for p in gpu.processes
                )
                fits = int((gpu.memory_free_bytes / gpu.memory_total_bytes - 0.01) * 100) / 100
                out.append(
                    Check(
                        "error",
                        f"GPU {gpu.index} has {gpu.memory_free_bytes / GiB:.1f} GiB free but utilization {util:g} asks for "
                        f"{want / GiB:.1f} GiB; held by: {holders or 'unknown processes'}",
                        {"gpu_memory_utilization": fits} if fits > 0.05 else None,
                    )
                )
        kinds = {
            (g.name, g.memory_total_bytes)
            for g in snapshot.chosen(tuple(chosen) if chosen else None)
        }
        if len(kinds) > 1:
            out.append(
                Check(
                    "warning",
                    "the chosen GPUs differ in model or memory: vLLM sizes every rank for the smallest",
                )
            )
        tp = int(cfg.get("tensor_parallel_size"))
        if tp > 1:
            picked = [g.index for g in snapshot.chosen(tuple(chosen) if chosen else None)][:tp]
            pcie = [
                (a, b)
                for (a, b), kind in snapshot.links.items()
                if a in picked and b in picked and kind != "nvlink"
            ]
            if pcie:
                out.append(
                    Check(
                        "warning",
                        f"tensor parallelism over PCIe (no NVLink between GPUs {pcie[0][0]} and {pcie[0][1]}): expect slower all-reduce",
                    )
                )
    return out


def secret_values(cfg: ServeConfig) -> list[str]:
    return [str(cfg.get(s.dest)) for s in CATALOG if s.secret and cfg.get(s.dest)]


def secret_on_command_line(argv: Sequence[str], secrets: Sequence[str]) -> bool:
    """True when a whole argv token is a secret (`K` or `--flag=K`), never a substring:
    `--api-key 1` must not refuse a command line that holds `--port 1234`."""
    values = {s for s in secrets if s}
    return any(arg in values or arg.partition("=")[2] in values for arg in argv)


def launch(
    cfg: ServeConfig,
    install: VllmInstall,
    *,
    extra_args: Sequence[str] = (),
    base_env: dict[str, str] | None = None,
    force: bool = False,
) -> runs.Run:
    """Start vLLM for `cfg`; returns the run (pre-flight is the caller's business).

    The port is reserved first (tui.adapters.ports) and then bind-tested: of two launches
    racing for one port, the loser gets a UserError naming the winner. `force` launches even
    when something else holds the port (the run then fails, and is never reported ready:
    readiness needs our own process to own the listening socket).
    """
    from tui.core.multinode_checks import ray_refusal

    refusal = ray_refusal(cfg, install.device)
    if refusal and not force:
        raise UserError(refusal)
    from tui.adapters.local_paths import describe_missing, missing_local_paths

    missing = missing_local_paths(cfg)
    if missing:
        raise UserError(f"not launching: {describe_missing(missing)}")
    argv = build_argv(
        cfg, install.prefix, model_positional=install.model_positional, version=install.version
    ) + list(extra_args)
    if secret_on_command_line(argv, secret_values(cfg)):
        raise UserError("refusing to start: a secret value would appear on the command line")
    server_env = build_env(cfg)
    env = dict(os.environ if base_env is None else base_env)
    env.update(server_env)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    token = new_token()
    env[TOKEN_ENV] = token
    port = cfg.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise UserError(f"--port {port}: expected a port number from 1 to 65535")
    with ports.reserve(port) as lock:
        if not force and port_in_use(cfg.get("host"), port):
            raise UserError(
                f"port {port} is already in use",
                hint=f"try --port {free_port(cfg.get('host'), port + 1)}",
            )
        run = runs.new_run(
            cfg.model,
            argv,
            env_names=list(server_env),
            url=base_url(cfg),
            extra={
                "vllm_version": install.version,
                "vllm_dist": install.dist,
                "vllm_python": install.python,
                "device": install.device,
                "port": port,
                "host": cfg.get("host"),
                "token": token,
                "config": {
                    k: ("****" if any(k == s.dest and s.secret for s in CATALOG) else v)
                    for k, v in cfg.values
                },
                "cuda_visible_devices": cfg.cuda_visible_devices,
            },
        )
        lock.record(run.id)
        # The shim runs on our interpreter and must import tui; it removes this entry again
        # before starting vLLM so vllm-tui's path never leaks into vLLM's interpreter.
        shim_env = dict(env)
        root = _our_package_root()
        shim_env["PYTHONPATH"] = root + (
            os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
        )
        shim_env["VLLM_TUI_SHIM_ADDED_PATH"] = root
        started = runs.start(run, shim_env, pass_fds=(lock.fd,))
    try:
        runs.prune(*runs.prune_limits())
    except OSError:
        pass  # housekeeping only
    return started


def _our_package_root() -> str:
    import tui

    return os.path.dirname(os.path.dirname(os.path.abspath(tui.__file__)))
