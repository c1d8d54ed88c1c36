#!/usr/bin/env bash
# Data- and expert-parallel training on this machine (docs/PERFORMANCE.md):
# 80 steps of the testbed's top-k and SMoES models from the shared stage 0,
# one process with 2 threads against 2 ranks with 1 thread each, data
# parallel alone and with expert parallelism. Needs runs/study/vision
# (scripts/testbed.sh). Usage: scripts/parallel_bench.sh [BUILD_DIR] [OUT]
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-/tmp/ep}
common=(--set data.root=data/study --set data.image_cache=runs/study/image_cache --set train.init_from=runs/study/vision
        --set train.steps=80 --set train.warmup_steps=10 --set train.ckpt_every=80 --set train.log_every=20 --set train.eval_every=0)
rm -rf "$OUT"; mkdir -p "$OUT"
SMOES_THREADS=2 "$BUILD/smoes" train --config configs/study/topk.json "${common[@]}" --set train.out_dir="$OUT"/single_topk > "$OUT"/single_topk.log 2>&1
"$BUILD/smoes" train --nproc 2 --config configs/study/topk.json "${common[@]}" --set train.out_dir="$OUT"/dp_topk > "$OUT"/dp_topk.log 2>&1
"$BUILD/smoes" train --nproc 2 --expert-parallel --config configs/study/topk.json "${common[@]}" --set train.out_dir="$OUT"/ep_topk > "$OUT"/ep_topk.log 2>&1
"$BUILD/smoes" train --nproc 2 --expert-parallel --config configs/study/smoes_attention.json "${common[@]}" --set train.out_dir="$OUT"/ep_smoes > "$OUT"/ep_smoes.log 2>&1
SMOES_THREADS=2 "$BUILD/smoes" train --config configs/study/smoes_attention.json "${common[@]}" --set train.out_dir="$OUT"/single_smoes > "$OUT"/single_smoes.log 2>&1
for run in single_topk dp_topk ep_topk single_smoes ep_smoes; do
  python3 - "$OUT/$run" <<'PY'
import json, os, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/metrics.jsonl")]
rate = sum(r["tokens_per_s"] for r in rows) / len(rows)
line = "%-13s tokens/s %6.0f  final loss %.4f" % (os.path.basename(d), rate, rows[-1]["loss"])
ep = d + "/expert_parallel.json"
if os.path.exists(ep):
    j = json.load(open(ep))
    line += "  all-to-all bytes/token %.0f  remote slot rate %s" % (
        j["bytes_per_token_all_layers"], [round(l["remote_slot_rate"], 3) for l in j["layers"]])
print(line)
PY
done
