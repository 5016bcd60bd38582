"""Pure builders: ServeConfig -> where servers really run: `docker run`, a compose.yaml
service, Kubernetes objects (Deployment + Service, or a LeaderWorkerSet for several nodes).

Same rules as the plain command: only non-default flags, secrets never written (docker takes
them with `-e NAME`/`--env-file`, compose from the caller's environment, Kubernetes from a
Secret by `secretKeyRef`). Inside a container the server listens on every interface; the
host the user chose (127.0.0.1 unless another was set) is where the port is published.

This module builds docker and compose; Kubernetes is in exports_k8s and what all share (Target,
the serve arguments, the env split) in exports_common. Their names are re-exported here.
"""

from __future__ import annotations

import shlex
from typing import Any

from tui.core.config import ServeConfig
from tui.core.exports_common import ALWAYS_SECRET as ALWAYS_SECRET
from tui.core.exports_common import CONTAINER_HF as CONTAINER_HF
from tui.core.exports_common import IMAGE as IMAGE
from tui.core.exports_common import RAY_PORT as RAY_PORT
from tui.core.exports_common import Target as Target
from tui.core.exports_common import gpu_count as gpu_count
from tui.core.exports_common import port as port
from tui.core.exports_common import serve_args as serve_args
from tui.core.exports_common import split_env as split_env
from tui.core.exports_k8s import WORKER_SCRIPT as WORKER_SCRIPT
from tui.core.exports_k8s import deployment as deployment
from tui.core.exports_k8s import k8s_escape as k8s_escape
from tui.core.exports_k8s import k8s_objects as k8s_objects
from tui.core.exports_k8s import k8s_yaml as k8s_yaml
from tui.core.exports_k8s import leader_script as leader_script
from tui.core.exports_k8s import leader_serve_args as leader_serve_args
from tui.core.exports_k8s import leader_worker_set as leader_worker_set
from tui.core.exports_k8s import pvc as pvc
from tui.core.exports_k8s import service as service

# -- docker ---------------------------------------------------------------------------------


def docker_argv(cfg: ServeConfig, target: Target) -> list[str]:
    devices = cfg.cuda_visible_devices
    gpus = f'"device={devices}"' if devices else "all"
    publish_host = str(cfg.get("host") or "127.0.0.1")
    p = port(cfg)
    argv = ["docker", "run", "--rm", "--name", target.name, "--gpus", gpus, "--ipc=host"]
    argv += ["-v", f"{_host_cache(target)}:{CONTAINER_HF}"]
    argv += ["-p", f"{_bracket(publish_host)}:{p}:{p}"]
    plain, secret = split_env(cfg)
    for key, value in plain.items():
        argv += ["-e", f"{key}={value}"]
    if target.env_file:
        argv += ["--env-file", target.env_file]
    else:
        for key in secret:
            argv += ["-e", key]  # docker copies the value from the caller's environment
    return [*argv, target.tag, *serve_args(cfg, target.version)]


def docker_text(cfg: ServeConfig, target: Target) -> str:
    argv = docker_argv(cfg, target)
    _, secret = split_env(cfg)
    head = (
        f"# secrets are read from {target.env_file}"
        if target.env_file
        else f"# secrets come from your environment: {', '.join(secret)}"
    )
    image_at = argv.index(target.tag)
    chunks = _chunks(argv[2:image_at]) + [[target.tag]] + _chunks(argv[image_at + 1 :])
    body = ["docker run"] + ["  " + " ".join(shlex.quote(a) for a in c) for c in chunks]
    return head + "\n" + " \\\n".join(body) + "\n"


def _chunks(args: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for a in args:
        if a.startswith("-") and not _is_number(a) or not out:
            out.append([a])
        else:
            out[-1].append(a)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _host_cache(target: Target) -> str:
    return CONTAINER_HF if target.hf_cache.startswith("pvc:") else target.hf_cache


# -- compose ----------------------------------------------------------------------------------


def compose_dict(cfg: ServeConfig, target: Target) -> dict[str, Any]:
    p = port(cfg)
    plain, secret = split_env(cfg)
    devices = cfg.cuda_visible_devices
    device: dict[str, Any] = {"driver": "nvidia", "capabilities": ["gpu"]}
    if devices:
        device["device_ids"] = [d.strip() for d in devices.split(",") if d.strip()]
    else:
        device["count"] = "all"
    service: dict[str, Any] = {
        "image": target.tag,
        # `$` would be interpolated by compose: `$$` is a literal dollar.
        "command": [a.replace("$", "$$") for a in serve_args(cfg, target.version)],
        "ipc": "host",
        "ports": [f"{_bracket(str(cfg.get('host') or '127.0.0.1'))}:{p}:{p}"],
        "volumes": [f"{_host_cache(target)}:{CONTAINER_HF}"],
        # Name only: compose copies each value from the environment it runs in.
        "environment": [f"{k}={v.replace('$', '$$')}" for k, v in plain.items()]
        + ([] if target.env_file else secret),
        "deploy": {"resources": {"reservations": {"devices": [device]}}},
        "healthcheck": {
            "test": ["CMD", "python3", "-c", _health_probe(p)],
            "interval": "30s",
            "timeout": "5s",
            "retries": 3,
            "start_period": f"{target.startup_s}s",
        },
        "restart": "unless-stopped",
    }
    if target.env_file:
        service["env_file"] = [target.env_file]
    return {"services": {target.name: service}}


def _health_probe(p: int) -> str:
    return (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{p}/health', timeout=4)"
    )


def compose_yaml(cfg: ServeConfig, target: Target) -> str:
    import yaml

    head = "# docker compose up -d   (secrets are taken from your environment, never stored here)\n"
    return head + yaml.safe_dump(compose_dict(cfg, target), sort_keys=False)


def container_exports(cfg: ServeConfig, target: Target) -> dict[str, str]:
    """The three container exports by the names the export dialog shows."""
    return {
        "docker run": docker_text(cfg, target),
        "compose.yaml": compose_yaml(cfg, target),
        "Kubernetes": k8s_yaml(cfg, target),
    }
