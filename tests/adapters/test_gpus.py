"""GPU detection against a fake pynvml that reproduces the real library's behaviour."""

from __future__ import annotations

import json
import os

import pynvml
import pytest

from tui.adapters.gpus import probe
from tui.adapters.launcher import preflight
from tui.cli import main
from tui.core.config import ServeConfig

from ..fake_nvml import FakeDevice, FakeNVML

GiB = 1 << 30


def h100(i: int, **kw) -> FakeDevice:
    return FakeDevice(uuid=f"GPU-{i:08d}-aaaa", bus=f"00000000:{0x10 + i:02X}:00.0", **kw)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver library"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver is not loaded"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "permission denied"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "version mismatch"),
        (pynvml.NVML_ERROR_GPU_IS_LOST, "fallen off the bus"),
        (pynvml.NVML_ERROR_UNKNOWN, "unknown error"),
    ],
)
def test_every_init_failure_is_one_human_line(code, reason):
    snap = probe(FakeNVML(init_error=code))
    assert snap.nvml.startswith("unavailable: ")
    assert reason in snap.nvml
    assert snap.gpus == ()
    assert snap.host.ram_total_bytes and snap.host.cpus


def test_zero_gpus():
    fake = FakeNVML([])
    snap = probe(fake)
    assert snap.nvml == "ok" and snap.gpus == () and snap.reason == "no NVIDIA GPU visible"
    assert fake.shutdowns == 1  # lazily initialised, shut down after the probe


def test_one_gpu_full_facts():
    snap = probe(FakeNVML([h100(0, processes=[(os.getpid(), 2 * GiB), (1, 1 * GiB)])]))
    (g,) = snap.gpus
    assert g.name == "NVIDIA H100 80GB HBM3"
    assert g.memory_total_bytes == 85_031_714_816
    assert g.compute_capability == (9, 0)
    assert g.pci_bus_id == "00000000:10:00.0"
    assert g.utilization_pct == 37 and g.temperature_c == 61 and g.power_w == 312.0
    mine = {p.pid: p for p in g.processes}
    assert mine[os.getpid()].mine is True and mine[os.getpid()].used_bytes == 2 * GiB
    assert snap.driver_version == "550.54.15" and snap.cuda_version == "12.4"
    spec = g.as_spec()
    assert spec.fp8 and spec.total_bytes == 85_031_714_816


def test_eight_gpus_with_nvlink_topology():
    devs = [h100(i) for i in range(8)]
    for d in devs:
        d.nvlink_peers = [o.bus.replace("00000000:", "0000:") for o in devs if o is not d]
    snap = probe(FakeNVML(devs))
    assert len(snap.gpus) == 8
    assert set(snap.links.values()) == {"nvlink"}
    assert len(snap.links) == 28


def test_pcie_only_pair_and_tp_warning():
    snap = probe(FakeNVML([h100(0), h100(1)]))
    assert snap.links == {(0, 1): "pcie"}
    checks = preflight(ServeConfig.build("m", {"tensor_parallel_size": 2, "port": 1}), snap)
    assert any("PCIe" in c.message for c in checks)


def test_not_supported_queries_become_none():
    dev = h100(0, unsupported={"util", "temp", "power", "cc", "procs"})
    (g,) = probe(FakeNVML([dev])).gpus
    assert g.utilization_pct is None and g.temperature_c is None and g.power_w is None
    assert g.compute_capability is None and g.processes == ()
    assert g.memory_total_bytes is not None


def test_v1_memory_fallback():
    (g,) = probe(FakeNVML([h100(0, v2_memory=False)])).gpus
    assert g.memory_total_bytes == 85_031_714_816


def test_gpu_fallen_off_the_bus():
    snap = probe(FakeNVML([h100(0), h100(1, lost=True)]))
    assert snap.gpus[1].lost
    assert [g.index for g in snap.visible_gpus()] == [0]
    assert snap.notes


def test_mig_instances_are_separate_devices():
    slices = [
        FakeDevice(name="MIG 3g.40gb", total=40 * GiB, uuid="MIG-aaaa-1111", cc=(9, 0)),
        FakeDevice(name="MIG 3g.40gb", total=40 * GiB, uuid="MIG-aaaa-2222", cc=(9, 0)),
    ]
    snap = probe(FakeNVML([h100(0, mig=slices)]))
    migs = [g for g in snap.gpus if g.mig_parent is not None]
    assert len(migs) == 2 and migs[0].memory_total_bytes == 40 * GiB
    visible = snap.visible_gpus()
    assert [g.key for g in visible] == [
        "MIG-aaaa-1111",
        "MIG-aaaa-2222",
    ]  # the parent is not usable itself


def test_mixed_models_warn():
    a100 = FakeDevice(
        name="NVIDIA A100-SXM4-80GB",
        total=84_987_740_160,
        cc=(8, 0),
        uuid="GPU-a100",
        bus="00000000:20:00.0",
    )
    snap = probe(FakeNVML([h100(0), a100]))
    checks = preflight(ServeConfig.build("m", {"port": 1}), snap)
    assert any("differ" in c.message for c in checks)


def test_foreign_process_blocks_utilization_with_names():
    dev = h100(0, used=60 * GiB, processes=[(1, 60 * GiB)])
    snap = probe(FakeNVML([dev]), my_uid=os.getuid() + 12345)
    checks = preflight(ServeConfig.build("m", {"port": 1}), snap)
    err = [c for c in checks if c.level == "error"]
    assert err and "pid 1" in err[0].message and "asks for" in err[0].message
    assert err[0].fix["gpu_memory_utilization"] < 0.3


@pytest.mark.parametrize(
    ("visible", "expected"),
    [
        (None, [0, 1, 2]),
        ("", []),
        ("2,0", [2, 0]),
        ("GPU-00000001", [1]),
        ("1,99,0", [1]),  # CUDA stops at the first invalid entry
    ],
)
def test_cuda_visible_devices(visible, expected):
    env = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    snap = probe(FakeNVML([h100(i) for i in range(3)]), env=env)
    assert [g.index for g in snap.visible_gpus()] == expected


def test_gpus_json_here_without_a_gpu(capsys):
    assert main(["gpus", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gpus"] == [] or data["nvml"] == "ok"
    if data["nvml"] != "ok":
        assert data["nvml"].startswith("unavailable: ")
    assert data["host"]["ram_total_bytes"] > 0 and data["host"]["cpus"] >= 1


def test_gpus_text_here(capsys):
    assert main(["gpus"]) == 0
    out = capsys.readouterr().out
    assert "host:" in out


def test_probe_with_a_broken_library_object_never_raises():
    class Broken:
        def nvmlInit(self):
            raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    snap = probe(Broken())
    assert snap.nvml.startswith("unavailable:")
