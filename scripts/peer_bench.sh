#!/usr/bin/env bash
# smoes against its PyTorch peer (bench/peers/mixtral_peer.py on Debian's
# python3-torch), alternately in one sitting on the same thread count: each
# round runs every measurement on smoes and then on the peer. Prints each
# quantity's median over rounds for both and the median of the per-round
# ratios smoes/peer. `make bench` runs it (after installing python3-torch).
#
#   scripts/peer_bench.sh [BUILD]
#   env: ROUNDS (3), THREADS (nproc), CONFIG (configs/quick_topk.json),
#        REPEATS (5: timed repeats of the MoE block and of each decode batch)
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(nproc)}
CONFIG=${CONFIG:-configs/quick_topk.json}
REPEATS=${REPEATS:-5}
PY=/usr/bin/python3  # Debian's, with python3-torch (a python earlier in PATH may have no torch)
cd "$(dirname "$0")/.."

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "peer_bench: $PY cannot import torch; run EXTRA_PACKAGES=python3-torch scripts/bootstrap.sh (make bench does)" >&2
  exit 1
fi
export OMP_NUM_THREADS=$THREADS
SMOES=("$BUILD/smoes" --threads "$THREADS" --log-level warn)
PEER=("$PY" bench/peers/mixtral_peer.py --threads "$THREADS" --config "$CONFIG")
OUT=$(mktemp -d /tmp/peer_bench.XXXXXX)
# The shapes both sides run: smoes bench moe's T = 512, E = 8, top-2 case
# (d 256, ffn 512); training batches of 16 x 56 tokens (16 of them visual);
# prompts of 48 tokens (16 visual) and 32 greedy tokens.
for r in $(seq "$ROUNDS"); do
  echo "peer_bench: round $r of $ROUNDS ($THREADS threads)" >&2
  "${SMOES[@]}" bench moe --tokens 512 --experts 8 --top-k 2 --repeats "$REPEATS" --json >"$OUT/smoes_moe_$r.json"
  "${PEER[@]}" --only moe --moe-tokens 512 --moe-repeats "$REPEATS" >"$OUT/peer_moe_$r.json"
  "${SMOES[@]}" bench train --config "$CONFIG" --batch 16 --seq-len 56 --json >"$OUT/smoes_train_$r.json"
  "${PEER[@]}" --only train --train-batch 16 --seq-len 56 >"$OUT/peer_train_$r.json"
  "${SMOES[@]}" bench decode --config "$CONFIG" --batch 1 --batch 16 --prompt-len 48 --new-tokens 32 \
    --repeats "$REPEATS" --json >"$OUT/smoes_decode_$r.json"
  "${PEER[@]}" --only decode --batch 1 16 --prompt-len 48 --new-tokens 32 --repeats "$REPEATS" \
    >"$OUT/peer_decode_$r.json"
done

"$PY" - "$OUT" "$ROUNDS" <<'PYEOF'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(name, r):
    with open(f"{out}/{name}_{r}.json") as f:
        return json.load(f)
def median(v):
    return sorted(v)[len(v) // 2]
rows = []  # (label, smoes values, peer values): one per round
def row(label, smoes, peer):
    rows.append((label, [smoes(r) for r in range(1, rounds + 1)], [peer(r) for r in range(1, rounds + 1)]))
row("MoE block fwd+bwd ms (T 512, E 8, top-2; lower is faster)",
    lambda r: load("smoes_moe", r)[0]["moe_ms"], lambda r: load("peer_moe", r)["moe"]["fwd_bwd_ms"])
row("training tokens/s", lambda r: load("smoes_train", r)["tokens_per_s"],
    lambda r: load("peer_train", r)["train"]["tokens_per_s"])
for i, b in enumerate((1, 16)):
    for what in ("prefill", "decode"):
        key = f"{what}_tokens_per_s"
        row(f"{what} tokens/s, batch {b}", lambda r, i=i, key=key: load("smoes_decode", r)[i][key],
            lambda r, i=i, key=key: load("peer_decode", r)["decode"][i][key])
peer = load("peer_moe", 1)["versions"]
print(f"peer: python {peer['python']}, torch {peer['torch']} (python3-torch {peer['python3_torch']}), "
      f"numpy {peer['numpy']}, {peer['threads']} threads; smoes {load('smoes_decode', 1)[0]['threads']} threads; "
      f"{rounds} rounds; raw JSON in {out}")
print(f"| quantity | smoes | peer | smoes/peer | per round |")
print(f"|---|---|---|---|---|")
summary = []
for label, s, p in rows:
    ratios = [a / b for a, b in zip(s, p)]
    print(f"| {label} | {median(s):.1f} | {median(p):.1f} | {median(ratios):.3f} | "
          + " ".join(f"{x:.3f}" for x in ratios) + " |")
    summary.append(dict(quantity=label, smoes=median(s), peer=median(p), ratio=median(ratios), per_round=ratios))
with open(f"{out}/summary.json", "w") as f:
    json.dump(dict(versions=peer, rounds=rounds, rows=summary), f, indent=2)
PYEOF
