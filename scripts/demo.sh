#!/usr/bin/env bash
# The main job, end to end, on whatever parts of smoes have landed.
# Usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
SMOES="$BUILD/smoes"
OUT=${SMOES_DEMO_OUT:-out/demo}
mkdir -p "$OUT"

echo "== 1. machine check (smoes doctor)"
"$SMOES" doctor

has() { "$SMOES" "$1" --help >/dev/null 2>&1; }

if has world; then
  echo "== 2. embedded world (quick preset)"
  "$SMOES" world generate --out data/world --preset quick --seed 1
else
  echo "== 2. embedded world: not built yet (issue: data)"
fi
if has study; then
  echo "== 3. quick study: train, evaluate, analyse, report"
  "$SMOES" study --preset quick --out "$OUT/study"
else
  echo "== 3. quick study: not built yet; when it lands this runs 'smoes study --preset quick'"
fi
echo "demo: done"
