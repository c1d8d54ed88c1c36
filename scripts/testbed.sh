#!/usr/bin/env bash
# The decoder testbed (docs/RESULTS.md "Current"): on the study world, one
# shared stage 0 (detection-pretrained ViT), then the top-k MoE model, its
# dense twin (equal active parameters) and its blind twin on every seed. Every
# score is what the decoder generates; top-k and dense are also scored on
# blank images. Re-running skips what is done (train resumes, evals are kept).
# Every run is also scored text-only (fact_qa accuracy, corpus perplexity:
# eval_text_val.json).
# Usage: scripts/testbed.sh [BUILD_DIR]
#   SEEDS (default "1 2 3"), OUT (runs/study), WORLD (data/study), LIMIT (500 examples per task)
#   MODELS (default "topk dense blind"): any configs/study/<model>.json; all but
#   dense and blind start from the shared stage 0 (a router change is allowed)
#   BLANK (default "topk dense"): the models also scored on blank images
set -euo pipefail
BUILD=${1:-build}
SMOES="$BUILD/smoes"
SEEDS=${SEEDS:-1 2 3}
MODELS=${MODELS:-topk dense blind}
BLANK=${BLANK:-topk dense}
OUT=${OUT:-runs/study}
WORLD=${WORLD:-data/study}
LIMIT=${LIMIT:-500}
TASKS=(--task refcoco --task vqa_v2 --task coco_captions)
mkdir -p "$OUT"

[ -f "$WORLD/MANIFEST.json" ] || "$SMOES" world generate --out "$WORLD" --preset study --seed 1
[ -f "$WORLD/tokenizer.model" ] || "$SMOES" tokenizer train --world "$WORLD"

# Wall seconds of each training command, appended to $OUT/times.tsv.
timed() {
  local name=$1 t0
  shift
  t0=$(date +%s)
  "$@"
  printf '%s\t%s\n' "$name" "$(($(date +%s) - t0))" >>"$OUT/times.tsv"
}
common=(--set data.root="$WORLD" --set data.image_cache="$OUT/image_cache")

# Stage 0 trains only the ViT and its dense head; init_from needs the same
# decoder shape, so the dense twin gets its own copy (same seed, same data: the
# ViT is built before the decoder, so it starts and trains the same).
for stage in vision vision_dense; do
  [ -f "$OUT/$stage/DONE" ] || {
    timed "$stage" "$SMOES" train --config "configs/study/$stage.json" "${common[@]}" --set train.out_dir="$OUT/$stage"
    touch "$OUT/$stage/DONE"
  }
done
for seed in $SEEDS; do
  for model in $MODELS; do
    run="$OUT/$model-s$seed"
    # model.blind is part of the architecture, and a blind model's encoder
    # only ever sees blank images: the blind twin starts from scratch.
    case $model in
      dense) stage0="$OUT/vision_dense" ;;
      blind) stage0="" ;;
      *) stage0="$OUT/vision" ;;
    esac
    [ -f "$run/DONE" ] || {
      timed "$model-s$seed" "$SMOES" train --config "configs/study/$model.json" "${common[@]}" \
        --set train.seed="$seed" --set train.out_dir="$run" --set train.init_from="$stage0"
      touch "$run/DONE"
    }
    [ -f "$run/eval_val.json" ] || "$SMOES" eval --ckpt "$run" "${TASKS[@]}" --limit "$LIMIT"
    [ -f "$run/eval_text_val.json" ] ||
      "$SMOES" eval --ckpt "$run" --task fact_qa --task corpus --limit "$LIMIT" --out "$run/eval_text_val.json"
    if [[ " $BLANK " == *" $model "* ]] && [ ! -f "$run/eval_val_blank.json" ]; then
      "$SMOES" eval --ckpt "$run" "${TASKS[@]}" --limit "$LIMIT" --blank-images
    fi
  done
done
python3 scripts/testbed_table.py "$OUT" | tee "$OUT/table.md"
