#!/usr/bin/env bash
# Refresh the repository's copies of the team's shared real-log data (tests and benchmarks read
# only tests/data/, so a plain clone runs every make target). Run when ../shared has newer data.
# The dev cases are replaced; model-archs.json is merged (the shared entries win, entries only
# the repository has, for tests/data/vllm-memory-cases.extra.json, are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VLLM_TUI_SHARED:-../shared}"
cp "$SHARED/data/vllm-memory-cases.dev.json" tests/data/vllm-memory-cases.dev.json
python3 - "$SHARED/data/model-archs.json" tests/data/model-archs.json <<'PY'
import json, sys
shared, ours = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
merged = ours | shared
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(merged, fh, indent=1, ensure_ascii=False)
    fh.write("\n")
print(f"model-archs.json: {len(shared)} shared + {len(merged) - len(shared)} repository-only")
PY
echo "refreshed tests/data from $SHARED/data"
