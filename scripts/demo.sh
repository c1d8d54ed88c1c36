#!/usr/bin/env bash
# The main job, end to end: machine check, the embedded world and its
# tokenizer, then the quick study (train, evaluate, analyse, report on all
# five research questions). Ends with the report's path and the verdicts.
# Usage: scripts/demo.sh [BUILD_DIR]
#   SMOES_DEMO_OUT (default out/demo) is where the study is written; rerunning
#   continues it (finished runs are kept).
set -euo pipefail
BUILD=${1:-build}
SMOES="$BUILD/smoes"
OUT=${SMOES_DEMO_OUT:-out/demo}
WORLD=data/world
mkdir -p "$OUT"

echo "== 1. machine check (smoes doctor)"
"$SMOES" doctor

echo "== 2. embedded world (quick preset) and its tokenizer"
[ -f "$WORLD/MANIFEST.json" ] || "$SMOES" world generate --out "$WORLD" --preset quick --seed 1
"$SMOES" data inspect --format refcoco --path "$WORLD" --split val --samples 2
[ -f "$WORLD/tokenizer.model" ] || "$SMOES" tokenizer train --world "$WORLD"

echo "== 3. quick study: train, evaluate, analyse, report (a pipeline check; docs/STUDY.md has the full one)"
"$SMOES" study --preset quick --world "$WORLD" --out "$OUT/study"
echo "demo: done"
