"""Unmocked NVML: run with `pytest -m gpu` on a GPU machine; skipped where NVML sees no GPU."""

from __future__ import annotations

import pytest

from tui.adapters.gpus import probe

pytestmark = pytest.mark.gpu
SNAP = probe()
needs_gpu = pytest.mark.skipif(not SNAP.gpus, reason=f"no GPU: {SNAP.reason}")


@needs_gpu
def test_real_gpus_have_memory_and_names():
    for g in SNAP.visible_gpus():
        assert g.name and g.memory_total_bytes and g.memory_total_bytes > (1 << 30)
        assert g.memory_free_bytes is not None and g.memory_free_bytes <= g.memory_total_bytes
        assert g.compute_capability is not None


@needs_gpu
def test_real_gpu_matches_a_catalog_entry_within_2_percent():
    from tui.core.gpu_catalog import find_gpu

    for g in SNAP.visible_gpus():
        spec = find_gpu(g.name)
        if spec is None:
            pytest.skip(f"{g.name} not in the planning catalog")
        assert abs(spec.total_bytes - g.memory_total_bytes) / g.memory_total_bytes < 0.02, (
            g.name,
            g.memory_total_bytes,
        )


@needs_gpu
def test_estimate_uses_the_detected_gpu(capsys):
    import json

    from tui.cli import main

    assert main(["estimate", "Qwen/Qwen3-0.6B", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gpu_source"] == "detected"
