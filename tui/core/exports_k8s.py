"""Kubernetes objects for a ServeConfig: a Deployment and Service for one node, a
LeaderWorkerSet (Ray leader plus workers) and a leader-only Service for several, and a PVC
for an `pvc:NAME[:SIZE]` HF cache. Secrets come from a Secret by `secretKeyRef`.

Pure. tui.core.exports re-exports the public names.
"""

from __future__ import annotations

import shlex
from typing import Any

from tui.core.config import ServeConfig
from tui.core.exports_common import (
    ALWAYS_SECRET,
    CONTAINER_HF,
    RAY_PORT,
    Target,
    gpu_count,
    port,
    serve_args,
    split_env,
)


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
