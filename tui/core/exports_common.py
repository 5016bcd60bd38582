"""What every container export shares: the Target (image, name, HF cache, secrets, nodes),
the arguments the image's `vllm serve` gets, the port, the env split into plain values and
secret names, and the GPUs per node.

Pure. tui.core.exports re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass

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
