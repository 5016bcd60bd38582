#!/usr/bin/env bash
# Refresh the repository's copies of the team's shared real-log data (tests and benchmarks read
# only tests/data/, so a plain clone runs every make target). Run when ../shared has newer data.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VLLM_TUI_SHARED:-../shared}"
for f in vllm-memory-cases.dev.json model-archs.json; do
  cp "$SHARED/data/$f" "tests/data/$f"
done
echo "refreshed tests/data from $SHARED/data"
