"""GPU and host detection through NVML (nvidia-ml-py) and psutil, nvitop style.

- NVML is initialised lazily and shut down after each probe; a probe returns a frozen
  snapshot, never a live handle.
- Every per-device query is wrapped: "not supported", permission errors and a GPU that fell
  off the bus become None (or a GPU marked lost), never an exception.
- No driver, no libnvidia-ml, permission denied: the snapshot says why in one line
  (`nvml = "unavailable: <reason>"`) and the app switches to planning mode.
- CUDA_VISIBLE_DEVICES is respected (indices, GPU-/MIG- UUIDs); the launcher sets
  CUDA_DEVICE_ORDER=PCI_BUS_ID so that NVML indices equal CUDA indices.

`probe(nvml=...)` accepts a stand-in module so tests can reproduce pynvml's behaviour. The
snapshot's data model lives in `tui.adapters.gpu_snapshot` and is re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import ModuleType
from typing import Any

from tui.adapters.gpu_snapshot import Gpu, GpuProcess, GpuSnapshot, HostInfo, parse_visible

__all__ = [
    "Gpu",
    "GpuProcess",
    "GpuSnapshot",
    "HostInfo",
    "host_info",
    "init_failure_reason",
    "parse_visible",
    "probe",
]

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
