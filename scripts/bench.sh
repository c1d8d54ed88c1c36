#!/usr/bin/env bash
# Runs every benchmark executable, then smoes against its PyTorch peer
# (scripts/peer_bench.sh); numbers land in docs/PERFORMANCE.md by hand, each
# with the command that produced it.
set -euo pipefail
BUILD=${1:-build}
shopt -s nullglob
for b in "$BUILD"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b"
done
echo "== scripts/peer_bench.sh $BUILD"
bash "$(dirname "$0")/peer_bench.sh" "$BUILD"
