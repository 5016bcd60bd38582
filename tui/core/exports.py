"""Pure builders: ServeConfig -> where servers really run: `docker run`, a compose.yaml
service, Kubernetes objects (Deployment + Service, or a LeaderWorkerSet for several nodes).

Same rules as the plain command: only non-default flags, secrets never written (docker takes
them with `-e NAME`/`--env-file`, compose from the caller's environment, Kubernetes from a
Secret by `secretKeyRef`). Inside a container the server listens on every interface; the
host the user chose (127.0.0.1 unless another was set) is where the port is published.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from tui.core.catalog.parallel import world_size
from tui.core.commands import build_args, build_env, mask_env
from tui.core.config import MASK, ServeConfig

IMAGE = "vllm/vllm-openai"
CONTAINER_HF = "/root/.cache/huggingface"
RAY_PORT = 6379
ALWAYS_SECRET = ("HF_TOKEN",)
"""Passed by name even when the config has none: gated models need it, unset costs nothing."""


@dataclass(frozen=True)
class Target:
    """Where and how to run: image, GPUs, HF cache, secrets, node count."""

    version: str | None = None
    """vLLM version for the image tag (None = latest)."""
    image: str = IMAGE
    name: str = "vllm"
    hf_cache: str = "/root/.cache/huggingface"
    """Host path of the HF cache (docker/compose, and k8s hostPath), or `pvc:NAME[:SIZE]`."""
    env_file: str | None = None
    secret_name: str | None = None
    """Kubernetes Secret holding the secret env vars (default `<name>-secrets`)."""
    startup_s: int = 1800
    """How long a model may take to download and load before Kubernetes gives up."""
    nodes: int = 1
    namespace: str | None = None

    @property
    def tag(self) -> str:
        if not self.version:
            return f"{self.image}:latest"
        base = self.version.split("+", 1)[0]  # a local build suffix is not an image tag
        return f"{self.image}:v{base.lstrip('v')}"

    @property
    def secrets(self) -> str:
        return self.secret_name or f"{self.name}-secrets"


def serve_args(cfg: ServeConfig, version: str | None = None) -> list[str]:
    """What the image's `vllm serve` entrypoint gets: `--model M` and the flags, listening on
    every interface inside the container."""
    inside = cfg.set("host", "0.0.0.0").with_gpus(None)
    return ["--model", cfg.model, *build_args(inside, version)]


def port(cfg: ServeConfig) -> int:
    return int(cfg.get("port") or 8000)


def split_env(cfg: ServeConfig) -> tuple[dict[str, str], list[str]]:
    """(plain env with values, names of secret env vars); CUDA_VISIBLE_DEVICES is the
    runtime's job in a container (docker --gpus, k8s GPU limits)."""
    env = build_env(cfg)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    secret = [k for k, v in mask_env(env).items() if v == MASK]
    plain = {k: v for k, v in env.items() if k not in secret}
    for name in ALWAYS_SECRET:
        if name not in secret:
            secret.append(name)
    return plain, secret


def gpu_count(cfg: ServeConfig, nodes: int = 1) -> int:
    """GPUs per node: the chosen devices, else TP x PP x DP spread over the nodes."""
    if cfg.cuda_visible_devices:
        return len([d for d in cfg.cuda_visible_devices.split(",") if d.strip()])
    return max(1, -(-world_size(cfg) // max(1, nodes)))


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


# -- kubernetes -------------------------------------------------------------------------------


def _labels(target: Target) -> dict[str, str]:
    return {"app.kubernetes.io/name": target.name, "app.kubernetes.io/part-of": "vllm"}


def _meta(target: Target, name: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name or target.name, "labels": _labels(target)}
    if target.namespace:
        meta["namespace"] = target.namespace
    return meta


def _env(cfg: ServeConfig, target: Target) -> list[dict[str, Any]]:
    plain, secret = split_env(cfg)
    env: list[dict[str, Any]] = [{"name": k, "value": k8s_escape(v)} for k, v in plain.items()]
    for key in secret:
        ref = {"name": target.secrets, "key": key, "optional": key in ALWAYS_SECRET}
        env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
    return env


def _probes(p: int, startup_s: int) -> dict[str, Any]:
    get = {"path": "/health", "port": p}
    return {
        # Model download + load can take many minutes: liveness only starts once this passes.
        "startupProbe": {
            "httpGet": get,
            "periodSeconds": 10,
            "failureThreshold": max(6, startup_s // 10),
        },
        "readinessProbe": {"httpGet": get, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {
            "httpGet": get,
            "periodSeconds": 15,
            "failureThreshold": 4,
            "timeoutSeconds": 5,
        },
    }


def _volumes(target: Target) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if target.hf_cache.startswith("pvc:"):
        claim = target.hf_cache.split(":")[1] or f"{target.name}-hf-cache"
        cache: dict[str, Any] = {"name": "hf-cache", "persistentVolumeClaim": {"claimName": claim}}
    else:
        cache = {
            "name": "hf-cache",
            "hostPath": {"path": target.hf_cache, "type": "DirectoryOrCreate"},
        }
    shm = {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}
    mounts = [
        {"name": "hf-cache", "mountPath": CONTAINER_HF},
        {"name": "shm", "mountPath": "/dev/shm"},
    ]
    return [cache, shm], mounts


def _container(cfg: ServeConfig, target: Target, name: str, gpus: int) -> dict[str, Any]:
    _, mounts = _volumes(target)
    return {
        "name": name,
        "image": target.tag,
        "env": _env(cfg, target),
        "resources": {"limits": {"nvidia.com/gpu": str(gpus)}},
        "volumeMounts": mounts,
    }


def deployment(cfg: ServeConfig, target: Target) -> dict[str, Any]:
    p = port(cfg)
    volumes, _ = _volumes(target)
    container = _container(cfg, target, "vllm", gpu_count(cfg))
    container["args"] = [k8s_escape(a) for a in serve_args(cfg, target.version)]
    container["ports"] = [{"name": "http", "containerPort": p}]
    container.update(_probes(p, target.startup_s))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(target),
        "spec": {
            "replicas": 1,
            # A rolling update would need a second set of GPUs while the old pod runs.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _labels(target)},
            "template": {
                "metadata": {"labels": _labels(target)},
                "spec": {"containers": [container], "volumes": volumes},
            },
        },
    }


def service(cfg: ServeConfig, target: Target, leader_only: bool = False) -> dict[str, Any]:
    selector = dict(_labels(target))
    if leader_only:
        selector = {"leaderworkerset.sigs.k8s.io/name": target.name, "role": "leader"}
    p = port(cfg)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(target),
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": p, "targetPort": p, "protocol": "TCP"}],
        },
    }


def pvc(target: Target) -> dict[str, Any] | None:
    if not target.hf_cache.startswith("pvc:"):
        return None
    parts = target.hf_cache.split(":")
    claim = parts[1] or f"{target.name}-hf-cache"
    size = parts[2] if len(parts) > 2 and parts[2] else "200Gi"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(target, claim),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def leader_worker_set(cfg: ServeConfig, target: Target) -> dict[str, Any]:
    """Multi-node: Ray head in the leader pod, Ray workers in the others (vLLM's
    multi-node-serving recipe), then `vllm serve` on the leader with the Ray backend."""
    p = port(cfg)
    gpus = gpu_count(cfg, target.nodes)
    volumes, _ = _volumes(target)
    ray_cfg = (
        cfg
        if cfg.get("distributed_executor_backend") == "ray"
        else cfg.set("distributed_executor_backend", "ray")
    )
    leader = _container(cfg, target, "vllm-leader", gpus)
    leader["command"] = ["/bin/sh", "-c", leader_script(serve_args(ray_cfg, target.version))]
    leader["ports"] = [{"name": "http", "containerPort": p}]
    leader.update(_probes(p, target.startup_s))
    worker = _container(cfg, target, "vllm-worker", gpus)
    worker["command"] = ["/bin/sh", "-c", WORKER_SCRIPT]
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": _meta(target),
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": target.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": {"labels": {**_labels(target), "role": "leader"}},
                    "spec": {"containers": [leader], "volumes": volumes},
                },
                "workerTemplate": {
                    "metadata": {"labels": {**_labels(target), "role": "worker"}},
                    "spec": {"containers": [worker], "volumes": volumes},
                },
            },
        },
    }


def k8s_escape(text: str) -> str:
    """Kubernetes expands `$(VAR)` in command and args; `$$` is a literal dollar."""
    return text.replace("$", "$$")


WORKER_SCRIPT = (
    f"until ray start --address=$(LWS_LEADER_ADDRESS):{RAY_PORT} --block; do "
    "echo waiting for the Ray head; sleep 5; done"
)


def leader_script(args: list[str]) -> str:
    """Start the Ray head, wait until every node of the group joined, then serve.

    `$(LWS_GROUP_SIZE)` is expanded by Kubernetes; the shell's own `$(...)` are written `$$(`.
    """
    wait = (
        'python3 -c \'import ray; ray.init(address="auto"); '
        'print(sum(1 for n in ray.nodes() if n["Alive"]))\''
    )
    return (
        f"ray start --head --port={RAY_PORT} && "
        f"for i in $$(seq 1 120); do n=$$({wait} 2>/dev/null | tail -n1); "
        '[ "$${n:-0}" -ge "$(LWS_GROUP_SIZE)" ] && break; sleep 5; done && '
        "exec vllm serve " + " ".join(k8s_escape(shlex.quote(a)) for a in args)
    )


def leader_serve_args(script: str) -> list[str]:
    """The `vllm serve` arguments inside a leader script (for checks)."""
    return shlex.split(script.split("exec vllm serve ", 1)[1].replace("$$", "$"))


def k8s_objects(cfg: ServeConfig, target: Target) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    claim = pvc(target)
    if claim is not None:
        objects.append(claim)
    if target.nodes > 1:
        objects += [leader_worker_set(cfg, target), service(cfg, target, leader_only=True)]
    else:
        objects += [deployment(cfg, target), service(cfg, target)]
    return objects


def k8s_yaml(cfg: ServeConfig, target: Target) -> str:
    import yaml

    _, secret = split_env(cfg)
    literals = " ".join(f'--from-literal={k}="${k}"' for k in secret)
    head = (
        f"# kubectl create secret generic {target.secrets} {literals}\n"
        "# kubectl apply -f <this file>"
        + (
            "   (needs the LeaderWorkerSet controller: https://lws.sigs.k8s.io)"
            if target.nodes > 1
            else ""
        )
        + "\n"
    )
    docs = [yaml.safe_dump(o, sort_keys=False) for o in k8s_objects(cfg, target)]
    return head + "---\n" + "---\n".join(docs)


def container_exports(cfg: ServeConfig, target: Target) -> dict[str, str]:
    """The three container exports by the names the export dialog shows."""
    return {
        "docker run": docker_text(cfg, target),
        "compose.yaml": compose_yaml(cfg, target),
        "Kubernetes": k8s_yaml(cfg, target),
    }
