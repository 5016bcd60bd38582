"""The GPU snapshot data model: frozen records of GPUs, their processes and the host, as one
probe saw them, and which GPUs CUDA_VISIBLE_DEVICES lets vLLM see (indices, GPU-/MIG- UUIDs).

`tui.adapters.gpus` fills these from NVML and psutil and re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.core.gpu_catalog import GpuSpec


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    used_bytes: int | None
    name: str | None = None
    user: str | None = None
    mine: bool | None = None


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str | None
    memory_total_bytes: int | None
    memory_free_bytes: int | None
    memory_used_bytes: int | None
    memory_reserved_bytes: int | None = None
    """NVML v2 `reserved`: memory the driver keeps for itself, which CUDA never reports as
    total (an H100 80GB: NVML 79.65 GiB total, CUDA 79.19 GiB). None on NVML v1."""
    compute_capability: tuple[int, int] | None = None
    pci_bus_id: str | None = None
    utilization_pct: int | None = None
    temperature_c: int | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    mig_mode: bool | None = None
    mig_parent: int | None = None
    """For a MIG instance: the index of its physical GPU."""
    processes: tuple[GpuProcess, ...] = ()
    lost: bool = False

    @property
    def key(self) -> str:
        """What CUDA_VISIBLE_DEVICES uses for it (index for a GPU, UUID for a MIG slice)."""
        return self.uuid if self.mig_parent is not None and self.uuid else str(self.index)

    @property
    def cuda_total_bytes(self) -> int | None:
        """The total CUDA reports (torch.cuda.mem_get_info), which vLLM multiplies by
        --gpu-memory-utilization: NVML's total minus what the driver reserves."""
        if self.memory_total_bytes is None:
            return None
        return self.memory_total_bytes - (self.memory_reserved_bytes or 0)

    def as_spec(self) -> GpuSpec:
        return GpuSpec(
            name=self.name,
            total_bytes=self.cuda_total_bytes or 0,
            compute_capability=self.compute_capability or (8, 0),
            free_bytes=self.memory_free_bytes,
            index=self.index,
            uuid=self.uuid,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "pci_bus_id": self.pci_bus_id,
            "memory_total_bytes": self.memory_total_bytes,
            "memory_free_bytes": self.memory_free_bytes,
            "memory_used_bytes": self.memory_used_bytes,
            "memory_reserved_bytes": self.memory_reserved_bytes,
            "compute_capability": ".".join(map(str, self.compute_capability))
            if self.compute_capability
            else None,
            "utilization_pct": self.utilization_pct,
            "temperature_c": self.temperature_c,
            "power_w": self.power_w,
            "power_limit_w": self.power_limit_w,
            "mig": {"enabled": self.mig_mode, "parent": self.mig_parent},
            "lost": self.lost,
            "processes": [
                {
                    "pid": p.pid,
                    "name": p.name,
                    "user": p.user,
                    "mine": p.mine,
                    "used_bytes": p.used_bytes,
                }
                for p in self.processes
            ],
        }


@dataclass(frozen=True)
class HostInfo:
    ram_total_bytes: int | None
    ram_available_bytes: int | None
    swap_total_bytes: int | None
    swap_free_bytes: int | None
    cpus: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ram_total_bytes": self.ram_total_bytes,
            "ram_available_bytes": self.ram_available_bytes,
            "swap_total_bytes": self.swap_total_bytes,
            "swap_free_bytes": self.swap_free_bytes,
            "cpus": self.cpus,
        }


@dataclass(frozen=True)
class GpuSnapshot:
    nvml: str
    """"ok" or "unavailable: <reason>"."""
    driver_version: str | None
    cuda_version: str | None
    gpus: tuple[Gpu, ...]
    host: HostInfo
    visible: tuple[str, ...] | None = None
    """CUDA_VISIBLE_DEVICES entries (None = unset: all GPUs)."""
    links: Mapping[tuple[int, int], str] = field(default_factory=dict)
    """(i, j) -> "nvlink" | "pcie" | a topology level name."""
    notes: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        if self.nvml == "ok":
            return "no NVIDIA GPU visible" if not self.gpus else "ok"
        return self.nvml.removeprefix("unavailable: ")

    def visible_gpus(self) -> tuple[Gpu, ...]:
        """GPUs that CUDA_VISIBLE_DEVICES lets vLLM see (MIG slices by UUID)."""
        usable = [
            g
            for g in self.gpus
            if not g.lost and not (g.mig_mode and any(c.mig_parent == g.index for c in self.gpus))
        ]
        if self.visible is None:
            return tuple(usable)
        out = []
        for entry in self.visible:
            match = _match_visible(entry, self.gpus)
            if match is None:
                break  # CUDA ignores everything after the first invalid entry
            out.append(match)
        return tuple(out)

    def chosen(self, keys: tuple[str, ...] | None = None) -> tuple[Gpu, ...]:
        """The GPUs picked in the app (by key), else every visible GPU."""
        visible = self.visible_gpus()
        if not keys:
            return visible
        return tuple(g for g in visible if g.key in keys)

    def as_json(self) -> dict[str, Any]:
        return {
            "nvml": self.nvml,
            "driver_version": self.driver_version,
            "cuda_version": self.cuda_version,
            "cuda_visible_devices": list(self.visible) if self.visible is not None else None,
            "gpus": [g.as_json() for g in self.gpus],
            "links": {f"{a}-{b}": kind for (a, b), kind in sorted(self.links.items())},
            "host": self.host.as_json(),
            "notes": list(self.notes),
        }


def _match_visible(entry: str, gpus: tuple[Gpu, ...]) -> Gpu | None:
    entry = entry.strip()
    if entry.isdigit():
        physical = [g for g in gpus if g.mig_parent is None]
        idx = int(entry)
        return next((g for g in physical if g.index == idx), None)
    for g in gpus:
        if g.uuid and (
            g.uuid == entry or (entry.startswith(("GPU-", "MIG-")) and g.uuid.startswith(entry))
        ):
            return g
    return None


def parse_visible(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(x for x in (v.strip() for v in value.split(",")) if x)
