"""The core must stay pure: importing it never loads Textual, Rich, torch or vLLM."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import tui.core


def test_core_modules_import_without_ui_or_ml_libraries():
    modules = [m.name for m in pkgutil.walk_packages(tui.core.__path__, "tui.core.")]
    assert "tui.core.estimate" in modules and "tui.core.catalog.memory" in modules
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in ('textual','rich','torch','vllm'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_tui_core_loads_neither_textual_nor_rich():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tui.core; print('textual' in sys.modules, 'rich' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]
