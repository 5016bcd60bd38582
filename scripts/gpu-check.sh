#!/usr/bin/env bash
# One prepared check for a real GPU machine that has no internet.
#
#   1. here (with internet):   scripts/gpu-check.sh --download     # fills .whl/ with the wheels we need
#   2. on the GPU machine:     scripts/gpu-check.sh                # installs from .whl/, runs the checks
#
# It prints `vllm-tui gpus --json`, an estimate on the detected GPU, and `pytest -m gpu`.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=".whl"
PY=${PYTHON:-python3}

if [ "${1:-}" = "--download" ]; then
  mkdir -p "$WHEELS"
  pyver=$($PY -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
  for v in "$pyver" 312; do
    $PY -m pip download -q -d "$WHEELS" --only-binary=:all: --python-version "$v" \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform any textual rich nvidia-ml-py psutil pyyaml prometheus_client huggingface_hub httpx \
      pytest pytest-asyncio hypothesis || true
  done
  echo "wheels in $WHEELS: $(ls "$WHEELS" | wc -l)"
  exit 0
fi

site=$(mktemp -d)
if [ -d "$WHEELS" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --target "$site" "$WHEELS"/*.whl 2>/dev/null || true
fi
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
export VLLM_TUI_HOME=$(mktemp -d) HF_HUB_OFFLINE=1

echo "== nvidia-smi"; nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv 2>&1 | head -20
echo "== vllm-tui gpus --json"; $PY -m tui gpus --json; echo "exit=$?"
echo "== vllm-tui gpus"; $PY -m tui gpus; echo "exit=$?"
echo "== estimate on the detected GPU"; $PY -m tui estimate Qwen/Qwen3-8B --max-model-len 32768; echo "exit=$?"
echo "== pytest -m gpu"; $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu_real.py tests/test_gpus.py 2>&1 | tail -20
