"""GPU and host detection through NVML (nvidia-ml-py) and psutil, nvitop style.

- NVML is initialised lazily and shut down after each probe; a probe returns a frozen
  snapshot, never a live handle.
- Every per-device query is wrapped: "not supported", permission errors and a GPU that fell
  off the bus become None (or a GPU marked lost), never an exception.
- No driver, no libnvidia-ml, permission denied: the snapshot says why in one line
  (`nvml = "unavailable: <reason>"`) and the app switches to planning mode.
- CUDA_VISIBLE_DEVICES is respected (indices, GPU-/MIG- UUIDs); the launcher sets
  CUDA_DEVICE_ORDER=PCI_BUS_ID so that NVML indices equal CUDA indices.

`probe(nvml=...)` accepts a stand-in module so tests can reproduce pynvml's behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
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


# -- probing ------------------------------------------------------------------------------


def host_info() -> HostInfo:
    try:
        import psutil

        vm = psutil.virtual_memory()
        sw = psutil.swap_memory()
        return HostInfo(
            int(vm.total),
            int(vm.available),
            int(sw.total),
            int(sw.free),
            psutil.cpu_count(logical=True),
        )
    except Exception:
        return HostInfo(None, None, None, None, os.cpu_count())


def init_failure_reason(exc: BaseException, nvml: Any) -> str:
    """One human line for an nvmlInit failure."""
    name = type(exc).__name__
    reasons = {
        "NVMLError_LibraryNotFound": "no NVIDIA driver library (libnvidia-ml.so) on this machine",
        "NVMLError_DriverNotLoaded": "the NVIDIA driver is not loaded",
        "NVMLError_NoPermission": "permission denied opening the NVIDIA devices",
        "NVMLError_LibRmVersionMismatch": "NVIDIA driver/library version mismatch (reboot or reinstall the driver)",
        "NVMLError_InsufficientPower": "a GPU reports insufficient power",
        "NVMLError_GpuIsLost": "a GPU has fallen off the bus",
        "NVMLError_Unknown": "NVML failed with an unknown error",
        "NVMLError_FunctionNotFound": "the NVIDIA driver is too old for this NVML",
    }
    return reasons.get(name, f"NVML error: {exc}")


def probe(
    nvml: ModuleType | Any | None = None,
    env: Mapping[str, str] | None = None,
    my_uid: int | None = None,
) -> GpuSnapshot:
    """A frozen snapshot of GPUs and host. Never raises."""
    env = os.environ if env is None else env
    host = host_info()
    visible = parse_visible(env.get("CUDA_VISIBLE_DEVICES"))
    lib: Any = nvml
    if lib is None:
        try:
            import pynvml

            lib = pynvml
        except Exception:
            return GpuSnapshot(
                "unavailable: nvidia-ml-py is not installed", None, None, (), host, visible
            )
    nvml = lib
    try:
        lib.nvmlInit()
    except Exception as exc:  # NVMLError_* or OSError from ctypes
        return GpuSnapshot(
            f"unavailable: {init_failure_reason(exc, nvml)}", None, None, (), host, visible
        )
    try:
        return _probe_devices(nvml, host, visible, os.getuid() if my_uid is None else my_uid)
    except Exception as exc:  # a driver misbehaving mid-probe: still no traceback
        return GpuSnapshot(
            f"unavailable: NVML failed while reading devices ({type(exc).__name__})",
            None,
            None,
            (),
            host,
            visible,
        )
    finally:
        try:
            lib.nvmlShutdown()
        except Exception:
            pass


def _q(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an NVML query; any NVML error ("not supported", no permission...) -> None."""
    try:
        value = fn(*args, **kwargs)
    except Exception:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _memory(nvml: Any, handle: Any) -> tuple[int | None, int | None, int | None, int | None]:
    """(total, free, used, reserved). v2 splits out the driver's reservation; its `free` is
    what CUDA reports as free, the figure vLLM's startup check compares with its budget."""
    info = None
    v2 = getattr(nvml, "nvmlMemory_v2", None)
    if v2 is not None:
        info = _q(nvml.nvmlDeviceGetMemoryInfo, handle, version=v2)
    if info is None:
        info = _q(nvml.nvmlDeviceGetMemoryInfo, handle)
        if info is None:
            return None, None, None, None
        return int(info.total), int(info.free), int(info.used), None
    return int(info.total), int(info.free), int(info.used), int(getattr(info, "reserved", 0))


def _processes(nvml: Any, handle: Any, my_uid: int) -> tuple[GpuProcess, ...]:
    procs: dict[int, GpuProcess] = {}
    for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        fn = getattr(nvml, getter, None)
        items = _q(fn, handle) if fn else None
        for p in items or ():
            pid = int(getattr(p, "pid", 0))
            used = getattr(p, "usedGpuMemory", None)
            used = (
                int(used) if isinstance(used, int) and used < (1 << 62) else None
            )  # NVML_VALUE_NOT_AVAILABLE
            name, user, mine = _process_owner(pid, my_uid)
            procs[pid] = GpuProcess(pid, used, name, user, mine)
    return tuple(sorted(procs.values(), key=lambda p: -(p.used_bytes or 0)))


def _process_owner(pid: int, my_uid: int) -> tuple[str | None, str | None, bool | None]:
    try:
        import psutil

        proc = psutil.Process(pid)
        with proc.oneshot():
            name = proc.name()
            try:
                user = proc.username()
            except Exception:
                user = None
            try:
                mine = proc.uids().real == my_uid
            except Exception:
                mine = None
        return name, user, mine
    except Exception:  # gone, in another PID namespace, or access denied
        return None, None, None


def _device(nvml: Any, handle: Any, index: int, my_uid: int, mig_parent: int | None = None) -> Gpu:
    name = _q(nvml.nvmlDeviceGetName, handle) or "NVIDIA GPU"
    uuid = _q(nvml.nvmlDeviceGetUUID, handle)
    total, free, used, reserved = _memory(nvml, handle)
    cc = _q(nvml.nvmlDeviceGetCudaComputeCapability, handle)
    pci = _q(nvml.nvmlDeviceGetPciInfo, handle)
    bus = getattr(pci, "busId", None) if pci is not None else None
    bus = bus.decode() if isinstance(bus, bytes) else bus
    util = _q(nvml.nvmlDeviceGetUtilizationRates, handle)
    temp = _q(nvml.nvmlDeviceGetTemperature, handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
    power = _q(nvml.nvmlDeviceGetPowerUsage, handle)
    limit = _q(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    mig = _q(nvml.nvmlDeviceGetMigMode, handle) if mig_parent is None else None
    mig_on = bool(mig[0]) if isinstance(mig, list | tuple) and mig else None
    lost = total is None and uuid is None
    return Gpu(
        index=index,
        name=str(name),
        uuid=uuid,
        memory_total_bytes=total,
        memory_free_bytes=free,
        memory_used_bytes=used,
        memory_reserved_bytes=reserved,
        compute_capability=tuple(int(x) for x in cc[:2])
        if isinstance(cc, list | tuple) and len(cc) >= 2
        else None,  # type: ignore[arg-type]
        pci_bus_id=bus,
        utilization_pct=int(util.gpu) if util is not None else None,
        temperature_c=int(temp) if isinstance(temp, int) else None,
        power_w=power / 1000 if isinstance(power, int | float) else None,
        power_limit_w=limit / 1000 if isinstance(limit, int | float) else None,
        mig_mode=mig_on,
        mig_parent=mig_parent,
        processes=_processes(nvml, handle, my_uid),
        lost=lost,
    )


def _probe_devices(
    nvml: Any, host: HostInfo, visible: tuple[str, ...] | None, my_uid: int
) -> GpuSnapshot:
    driver = _q(nvml.nvmlSystemGetDriverVersion)
    cuda = _q(nvml.nvmlSystemGetCudaDriverVersion)
    cuda_text = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else None
    count = _q(nvml.nvmlDeviceGetCount) or 0
    gpus: list[Gpu] = []
    handles: dict[int, Any] = {}
    notes: list[str] = []
    for i in range(int(count)):
        handle = _q(nvml.nvmlDeviceGetHandleByIndex, i)
        if handle is None:
            gpus.append(Gpu(i, "GPU lost (unreadable)", None, None, None, None, lost=True))
            notes.append(f"GPU {i} could not be opened (fell off the bus or no permission)")
            continue
        handles[i] = handle
        gpu = _device(nvml, handle, i, my_uid)
        gpus.append(gpu)
        if gpu.mig_mode:
            gpus += _mig_instances(nvml, handle, gpu, my_uid, start=1000 * (i + 1))
    links = _links(nvml, handles, {g.index: g.pci_bus_id for g in gpus})
    return GpuSnapshot("ok", driver, cuda_text, tuple(gpus), host, visible, links, tuple(notes))


def _mig_instances(nvml: Any, handle: Any, parent: Gpu, my_uid: int, start: int) -> list[Gpu]:
    out = []
    limit = _q(nvml.nvmlDeviceGetMaxMigDeviceCount, handle) or 0
    for k in range(int(limit)):
        mig = _q(nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, k)
        if mig is None:
            continue
        dev = _device(nvml, mig, start + k, my_uid, mig_parent=parent.index)
        out.append(
            replace(
                dev,
                name=f"{parent.name} MIG {k}",
                compute_capability=dev.compute_capability or parent.compute_capability,
            )
        )
    return out


def _links(
    nvml: Any, handles: Mapping[int, Any], buses: Mapping[int, str | None]
) -> dict[tuple[int, int], str]:
    """Pairwise link kind: 'nvlink' when an active NVLink reaches the other GPU, else 'pcie'."""
    links: dict[tuple[int, int], str] = {}
    max_links = getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18)
    nv_peers: dict[int, set[str]] = {}
    for i, h in handles.items():
        peers: set[str] = set()
        for link in range(max_links):
            state = _q(nvml.nvmlDeviceGetNvLinkState, h, link)
            if state is None:
                break
            if state:
                remote = _q(nvml.nvmlDeviceGetNvLinkRemotePciInfo, h, link)
                bus = getattr(remote, "busId", None) if remote is not None else None
                if isinstance(bus, bytes):
                    bus = bus.decode()
                if bus:
                    peers.add(str(bus).lower())
        nv_peers[i] = peers
    ids = sorted(handles)
    for a in ids:
        for b in ids:
            if a < b:
                bus_b = (buses.get(b) or "").lower()
                links[(a, b)] = (
                    "nvlink"
                    if bus_b and any(_same_bus(bus_b, p) for p in nv_peers.get(a, ()))
                    else "pcie"
                )
    return links


def _same_bus(a: str, b: str) -> bool:
    # NVML pads the domain differently in different structs ("00000000:07:00.0" vs "0000:07:00.0").
    return a.split(":", 1)[-1] == b.split(":", 1)[-1]
