#!/usr/bin/env bash
# The main job, end to end, on whatever parts of smoes have landed.
# Usage: scripts/demo.sh [BUILD_DIR]
#   SMOES_DEMO_STEPS (default 300) sets the training steps of the demo run.
set -euo pipefail
BUILD=${1:-build}
SMOES="$BUILD/smoes"
OUT=${SMOES_DEMO_OUT:-out/demo}
WORLD=data/world
STEPS=${SMOES_DEMO_STEPS:-300}
mkdir -p "$OUT"

# A command exists when `smoes --help` lists it (`smoes NAME --help` prints the
# top-level help and exits 0 even for a NAME that does not exist).
has() { "$SMOES" --help | grep -qE "^  $1 "; }

echo "== 1. machine check (smoes doctor)"
"$SMOES" doctor

echo "== 2. embedded world (quick preset) and its tokenizer"
"$SMOES" world generate --out "$WORLD" --preset quick --seed 1
"$SMOES" data inspect --format refcoco --path "$WORLD" --split val --samples 2
"$SMOES" tokenizer train --world "$WORLD"

echo "== 3. stage 0 (detection-pretrained ViT), then a small MoE-VLM (top-k router) for $STEPS steps on it"
"$SMOES" train --config configs/quick_vision.json --set train.out_dir="$OUT/quick_vision" --set data.root="$WORLD"
"$SMOES" train --config configs/quick_topk.json --set train.steps="$STEPS" --set train.warmup_steps=30 \
  --set train.out_dir="$OUT/quick_topk" --set data.root="$WORLD" \
  --set train.init_from="$OUT/quick_vision" --set 'train.freeze=["encoder"]'
"$SMOES" eval --ckpt "$OUT/quick_topk" --task coco_captions --task refcoco --task vqa_v2 --task fact_qa --limit 200

if has study; then
  echo "== 4. quick study: train, evaluate, analyse, report"
  "$SMOES" study --preset quick --out "$OUT/study"
else
  echo "== 4. quick study: not built yet; when it lands this runs 'smoes study --preset quick'"
fi
echo "demo: done"
