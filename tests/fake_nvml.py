"""A stand-in for the `pynvml` module that behaves like the real one: real NVMLError classes
(built from codes, as the library does), real ctypes structs for memory/PCI/utilisation,
"not supported" on chosen queries, MIG handles, and init failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pynvml

GiB = 1 << 30


def err(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


@dataclass
class FakeDevice:
    name: str = "NVIDIA H100 80GB HBM3"
    total: int = 85_031_714_816
    used: int = 600 << 20
    cc: tuple[int, int] = (9, 0)
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    bus: str = "00000000:07:00.0"
    processes: list[tuple[int, int]] = field(default_factory=list)
    unsupported: set[str] = field(default_factory=set)
    v2_memory: bool = True
    mig: list[FakeDevice] | None = None
    nvlink_peers: list[str] = field(default_factory=list)
    lost: bool = False


class FakeNVML:
    NVMLError = pynvml.NVMLError
    nvmlMemory_v2 = pynvml.nvmlMemory_v2
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_NVLINK_MAX_LINKS = 18

    def __init__(
        self,
        devices=(),
        init_error: int | None = None,
        driver: str = "550.54.15",
        cuda: int = 12040,
    ):
        self.devices = list(devices)
        self.init_error = init_error
        self.driver = driver
        self.cuda = cuda
        self.initialised = 0
        self.shutdowns = 0

    # -- library ------------------------------------------------------------------------
    def nvmlInit(self):
        if self.init_error is not None:
            raise err(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self):
        return self.cuda

    def nvmlDeviceGetCount(self):
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, i):
        dev = self.devices[i]
        if dev.lost:
            raise err(pynvml.NVML_ERROR_GPU_IS_LOST)
        return dev

    # -- per device ---------------------------------------------------------------------
    def _check(self, dev, query):
        if dev.lost:
            raise err(pynvml.NVML_ERROR_GPU_IS_LOST)
        if query in dev.unsupported:
            raise err(pynvml.NVML_ERROR_NOT_SUPPORTED)

    def nvmlDeviceGetName(self, dev):
        self._check(dev, "name")
        return dev.name

    def nvmlDeviceGetUUID(self, dev):
        self._check(dev, "uuid")
        return dev.uuid

    def nvmlDeviceGetMemoryInfo(self, dev, version=None):
        self._check(dev, "memory")
        if version is not None:
            if not dev.v2_memory:
                raise err(pynvml.NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
            m = pynvml.c_nvmlMemory_v2_t()
            m.total, m.used, m.free, m.reserved = dev.total, dev.used, dev.total - dev.used, 0
            return m
        m = pynvml.c_nvmlMemory_t()
        m.total, m.used, m.free = dev.total, dev.used, dev.total - dev.used
        return m

    def nvmlDeviceGetCudaComputeCapability(self, dev):
        self._check(dev, "cc")
        return dev.cc

    def nvmlDeviceGetPciInfo(self, dev):
        self._check(dev, "pci")
        p = pynvml.nvmlPciInfo_t()
        p.busId = dev.bus.encode()
        return p

    def nvmlDeviceGetUtilizationRates(self, dev):
        self._check(dev, "util")
        u = pynvml.c_nvmlUtilization_t()
        u.gpu, u.memory = 37, 12
        return u

    def nvmlDeviceGetTemperature(self, dev, sensor):
        self._check(dev, "temp")
        return 61

    def nvmlDeviceGetPowerUsage(self, dev):
        self._check(dev, "power")
        return 312_000

    def nvmlDeviceGetEnforcedPowerLimit(self, dev):
        self._check(dev, "power")
        return 700_000

    def nvmlDeviceGetMigMode(self, dev):
        self._check(dev, "mig")
        if dev.mig is None:
            raise err(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return [1, 1]

    def nvmlDeviceGetMaxMigDeviceCount(self, dev):
        return len(dev.mig or [])

    def nvmlDeviceGetMigDeviceHandleByIndex(self, dev, k):
        if not dev.mig or k >= len(dev.mig):
            raise err(pynvml.NVML_ERROR_NOT_FOUND)
        return dev.mig[k]

    def nvmlDeviceGetComputeRunningProcesses(self, dev):
        self._check(dev, "procs")
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in dev.processes]

    def nvmlDeviceGetGraphicsRunningProcesses(self, dev):
        self._check(dev, "procs")
        return []

    def nvmlDeviceGetNvLinkState(self, dev, link):
        if not dev.nvlink_peers:
            raise err(pynvml.NVML_ERROR_NOT_SUPPORTED)
        if link >= len(dev.nvlink_peers):
            raise err(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return 1

    def nvmlDeviceGetNvLinkRemotePciInfo(self, dev, link):
        p = pynvml.nvmlPciInfo_t()
        p.busId = dev.nvlink_peers[link].encode()
        return p
