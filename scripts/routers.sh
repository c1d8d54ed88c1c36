#!/usr/bin/env bash
# The routers of the paper on the decoder testbed (issue 25, docs/RESULTS.md):
# trains and scores each model on every seed with scripts/testbed.sh (which
# skips what is done), analyses every MoE run's routing, and writes the table.
# Usage: scripts/routers.sh [BUILD_DIR]
#   MODELS (default "topk dense smoes_attention smoes_gaussian hard_4_4 smar"),
#   SEEDS, OUT, WORLD, LIMIT as in scripts/testbed.sh; EXAMPLES (100 per task) for analyze routing
set -euo pipefail
BUILD=${1:-build}
export MODELS=${MODELS:-topk dense smoes_attention smoes_gaussian hard_4_4 smar}
export SEEDS=${SEEDS:-1 2 3}
OUT=${OUT:-runs/study}
EXAMPLES=${EXAMPLES:-100}
BLANK=${BLANK:-topk dense} OUT="$OUT" scripts/testbed.sh "$BUILD"
for seed in $SEEDS; do
  for model in $MODELS; do
    run="$OUT/$model-s$seed"
    [ "$model" = dense ] || [ -f "$run/analyze_routing_val.json" ] ||
      "$BUILD/smoes" analyze routing --ckpt "$run" --examples "$EXAMPLES"
  done
done
# shellcheck disable=SC2086
python3 scripts/routers_table.py "$OUT" $MODELS | tee "$OUT/routers_table.md"
