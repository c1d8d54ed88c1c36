#!/usr/bin/env bash
# Drives every smoes subcommand with missing, unknown and malformed arguments
# and with missing or unreadable files. Each case must exit 2 (usage) or 1
# (failure), print nothing on stdout (no help in place of an error), and give
# exactly one message line on stderr (log lines aside) that matches the
# expected text; no stack trace, abort or "unexpected error".
# Usage: bad_input.sh SMOES_EXE FIXTURES_DIR
set -u
smoes=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"model": ' > "$tmp/cut.json"
printf '{"modle": {}}' > "$tmp/unknown_key.json"
printf '{"model": {"d_model": "big"}}' > "$tmp/wrong_type.json"
printf 'not a folder\n' > "$tmp/file"
ckpt_dir="$tmp"  # a folder with no checkpoint in it

failures=0
cases=0
# check EXPECTED_EXIT REGEX ARGS...
check() {
  local want=$1 regex=$2
  shift 2
  cases=$((cases + 1))
  "$smoes" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
  local got=$?
  local messages
  messages=$(grep -v -E '^\[[0-9:]{8}\] (trace|debug|info|warning|warn)' "$tmp/err" | grep -c .)
  local why=""
  [ "$got" = "$want" ] || why="exit $got, expected $want"
  [ -s "$tmp/out" ] && why="$why; stdout not empty: $(head -c 200 "$tmp/out")"
  [ "$messages" = 1 ] || why="$why; $messages message lines on stderr, expected 1"
  grep -q -E "$regex" "$tmp/err" || why="$why; stderr does not match: $regex"
  grep -q -E 'terminate called|Exception raised from|frame #|Aborted|Segmentation|unexpected error' "$tmp/err" &&
    why="$why; a crash or an unexpected exception"
  if [ -n "$why" ]; then
    failures=$((failures + 1))
    echo "FAIL: smoes $*: $why"
    sed 's/^/    stderr: /' "$tmp/err" | head -5
  fi
}
usage='^smoes: usage error: '
error='^smoes: error: '

# The top level.
check 2 "${usage}smoes: give a command \(commands: doctor, bench, world" 
check 2 "${usage}smoes: unknown command 'nope' \(commands: doctor" nope
check 2 "${usage}smoes doctor: The following argument was not expected: --nope" --nope doctor
check 2 "${usage}smoes doctor: --threads: Value abc not in range 0 to 1024" --threads abc doctor
check 2 "${usage}smoes doctor: --threads: Value -1 not in range 0 to 1024" --threads -1 doctor
check 1 "${error}--log-level 'loud': expected trace" --log-level loud doctor

# doctor, bench.
check 2 "${usage}smoes doctor: The following argument was not expected: extra" doctor extra
check 2 "${usage}smoes doctor: --min-gflops: must be at least 0, got -1" doctor --min-gflops -1
check 2 "${usage}smoes bench: give a command \(commands: moe, train, decode\)" bench
check 2 "${usage}smoes bench moe: --tokens: must be at least 1, got -5" bench moe --tokens -5
check 2 "${usage}smoes bench moe: --repeats: expected a number, got 'many'" bench moe --repeats many
check 1 "${error}/nonexistent.json: cannot open for reading" bench train --config /nonexistent.json
check 2 "${usage}smoes bench train: --batch: must be at least 1, got 0" bench train --batch 0
check 2 "${usage}smoes bench decode: --batch: must be at least 1, got 0" bench decode --batch 0
check 2 "${usage}smoes bench decode: --new-tokens: must be at least 2, got 1" bench decode --new-tokens 1
check 1 "^smoes: error: .*/missing.json: cannot open for reading" bench decode --config "$tmp/missing.json"
check 1 "^smoes: error: bench decode: prompt 100000 \+ new tokens 32 exceed model.max_seq_len = 256" bench decode --prompt-len 100000 --batch 1

# world, tokenizer, data.
check 2 "${usage}smoes world: give a command \(commands: generate, openclipart\)" world
check 2 "${usage}smoes world generate: --out is required" world generate
check 2 "${usage}smoes world generate: --preset: nope not in" world generate --out "$tmp/w" --preset nope
check 1 "${error}$tmp/file/w: cannot create --out: Not a directory" world generate --out "$tmp/file/w"
check 2 "${usage}smoes world openclipart: --size: Value 2 not in range 8 to 1024" world openclipart --out "$tmp/o" --size 2
check 2 "${usage}smoes tokenizer: give a command \(commands: train\)" tokenizer
check 1 "${error}tokenizer train: give --world DIR and/or --input FILE" tokenizer train
check 1 "${error}/nonexistent.txt: cannot open for reading" tokenizer train --input /nonexistent.txt --out "$tmp/t"
check 2 "${usage}smoes tokenizer train: --vocab-size: Value 3 not in range" tokenizer train --vocab-size 3
check 2 "${usage}smoes data: give a command \(commands: inspect\)" data
check 2 "${usage}smoes data inspect: --format is required" data inspect --path "$fixtures"
check 1 "${error}unknown task 'nope' \(known: coco_captions" data inspect --format nope --path "$fixtures"
check 1 "${error}vqa_v2 train: no annotation files under /nonexistent" data inspect --format vqa_v2 --path /nonexistent
check 2 "${usage}smoes data inspect: --samples: must be at least 0, got -2" data inspect --format vqa_v2 --path "$fixtures" --samples -2

# train.
check 1 "${error}/nonexistent.json: cannot open for reading" train --config /nonexistent.json
check 1 "${error}$tmp: is a folder, not a file" train --config "$tmp"
check 1 "${error}$tmp/cut.json: not valid JSON" train --config "$tmp/cut.json"
check 1 "${error}$tmp/unknown_key.json: modle: unknown key \(did you mean 'model'\?\)" train --config "$tmp/unknown_key.json"
check 1 "${error}$tmp/wrong_type.json: model.d_model: expected an integer, got string" train --config "$tmp/wrong_type.json"
check 1 "${error}--set x: expected KEY=VALUE" train --set x
check 1 "${error}config \(with --set overrides\): model.d_model: value -3 is out of range" train --set model.d_model=-3
check 2 "${usage}smoes train: --nproc: Value abc not in range 1 to 256" train --nproc abc
check 2 "${usage}smoes train: --stop-after: must be at least 0, got -1" train --stop-after -1
check 2 "${usage}smoes train: The following arguments were not expected: 5 --steps" train --steps 5

# eval.
check 1 "${error}eval: give either --ckpt or --results" eval
check 1 "${error}/nonexistent: cannot open for reading" eval --ckpt /nonexistent
check 1 "${error}$ckpt_dir: no checkpoint in this run directory" eval --ckpt "$ckpt_dir"
check 1 "${error}eval --results: give --annotations" eval --results /nonexistent.json --task vqa_v2
check 1 "${error}$tmp/cut.json: not valid JSON" eval --results "$tmp/cut.json" --task vqa_v2 --annotations "$fixtures" --split val
check 2 "${usage}smoes eval: --batch: must be at least 1, got 0" eval --batch 0
check 2 "${usage}smoes eval: --limit: must be at least 0, got -4" eval --limit -4

# analyze.
check 2 "${usage}smoes analyze: give a command \(commands: vision, grounding, routing, traffic\)" analyze
check 2 "${usage}smoes analyze: unknown command 'routes'" analyze routes
check 2 "${usage}smoes analyze routing: --ckpt is required" analyze routing
check 1 "${error}/nonexistent: cannot open for reading" analyze routing --ckpt /nonexistent
check 2 "${usage}smoes analyze routing: --examples: must be at least 1, got 0" analyze routing --ckpt x --examples 0
check 2 "${usage}smoes analyze vision: --ckpt is required" analyze vision
check 1 "${error}$ckpt_dir: no checkpoint in this run directory" analyze grounding --ckpt "$ckpt_dir"
check 1 "${error}/nonexistent: cannot open for reading" analyze traffic --ckpt /nonexistent --nproc 2
check 2 "${usage}smoes analyze traffic: --nproc: Value 0 not in range" analyze traffic --ckpt x --nproc 0

# skip.
check 1 "${error}skip: give --ckpt and at least one --task" skip
check 1 "${error}/nonexistent: cannot open for reading" skip --ckpt /nonexistent --task vqa_v2
check 1 "${error}/nonexistent.json: cannot open for reading" skip --replot /nonexistent.json
check 1 "${error}$fixtures/instances_small.json: not a smoes skip result" skip --replot "$fixtures/instances_small.json"
check 2 "${usage}smoes skip: --ratio: Value 1.5 not in range" skip --ratio 1.5
check 2 "${usage}smoes skip: Could not convert: --seed = -x" skip --seed -x

# study.
check 1 "${error}study: no spec /nonexistent.json" study --spec /nonexistent.json
check 1 "${error}$tmp/cut.json: not valid JSON" study --spec "$tmp/cut.json"
check 1 "${error}study: no spec \./configs/study/grid/nope.json \(presets: quick, full" study --preset nope
check 2 "${usage}smoes study: --jobs: Value 0 not in range 1 to 64" study --jobs 0
check 2 "${usage}smoes study: The following argument was not expected: run" study run

echo "$cases cases, $failures failed"
[ "$failures" = 0 ]
