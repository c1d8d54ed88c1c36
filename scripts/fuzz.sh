#!/usr/bin/env bash
# Fuzzing every reader of outside input with libFuzzer under ASan + UBSan
# (fuzz/CMakeLists.txt; results in docs/RELIABILITY.md, "Fuzzing").
#
#   scripts/fuzz.sh build           configure + build the targets (clang) in $FUZZ_BUILD
#   scripts/fuzz.sh smoke [T...]    build, then each target for $SMOKE_SECONDS s on its
#                                   seeds and once on its regression inputs (CI, ctest)
#   scripts/fuzz.sh full [T...]     build, then each target until $FUZZ_RUNS executions
#                                   (at most $FUZZ_MAX_SECONDS s), leaks on; writes
#                                   $FUZZ_BUILD/summary.md (`make fuzz`)
#
# Environment: FUZZ_BUILD (default build/fuzz), FUZZ_JOBS (build jobs, default
# nproc), FUZZ_SKIP_BUILD=1 (use the built targets as they are), SMOKE_SECONDS
# (3), FUZZ_RUNS (100000), FUZZ_MAX_SECONDS (3600), FUZZ_TIMEOUT (25: seconds
# one input may take before it is a hang), FUZZ_RSS_MB (2048: a process or one
# allocation over it is an out-of-memory finding), FUZZ_SUMMARY (full's table,
# default $FUZZ_BUILD/summary.md), FUZZ_FORK=1 (full: libFuzzer's fork mode,
# which goes on after a finding and saves each one: for a target with known
# findings, to count them), SMOKE_SEEDS_ONLY (targets the smoke runs on their
# seeds without mutating them, e.g. while a finding waits for its fix).
#
# Seeds are made from tests/fixtures (the two-file formats joined with the
# separator of fuzz/fuzz_common.h) into $FUZZ_BUILD/seeds/<target>; what the
# full runs find grows $FUZZ_BUILD/corpus/<target>; crashes, hangs, leaks and
# OOMs are saved in $FUZZ_BUILD/artifacts/<target>/. Each one fixed becomes a
# regression input in tests/fixtures/fuzz/<target>/ (with a googletest).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-smoke}
shift || true
FUZZ_BUILD=${FUZZ_BUILD:-$ROOT/build/fuzz}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
SMOKE_SECONDS=${SMOKE_SECONDS:-3}
FUZZ_RUNS=${FUZZ_RUNS:-100000}
FUZZ_MAX_SECONDS=${FUZZ_MAX_SECONDS:-3600}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-25}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
SMOKE_SEEDS_ONLY=${SMOKE_SEEDS_ONLY-}
FIX=$ROOT/tests/fixtures
SEP=$'\n@@smoes-fuzz-next-file@@\n'  # fuzz/fuzz_common.h kSeparator

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside libraries smoes cannot change, each with its reason (shared with `make sanitize`).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0}

build() {
  [ "${FUZZ_SKIP_BUILD:-0}" = 1 ] && return 0
  local cxx
  cxx=$(command -v clang++-14 || command -v clang++ || true)
  if [ -z "$cxx" ]; then
    echo "fuzz: clang++ not found (scripts/bootstrap.sh installs clang-14 and libclang-rt-14-dev)" >&2
    exit 1
  fi
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  mkdir -p "$FUZZ_BUILD"
  if [ ! -f "$FUZZ_BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT/fuzz" -B "$FUZZ_BUILD" "${gen[@]}" -DCMAKE_CXX_COMPILER="$cxx" >"$FUZZ_BUILD/configure.log" 2>&1 ||
      { cat "$FUZZ_BUILD/configure.log" >&2; exit 1; }
  fi
  cmake --build "$FUZZ_BUILD" -j "$FUZZ_JOBS"
}

# Seeds ------------------------------------------------------------------------

join2() { cat "$1"; printf '%s' "$SEP"; cat "$2"; }  # two files -> one input

seed_files() {  # target -> the fixture files that seed it, one per line
  local d=$FIX/data
  case $1 in
    pickle) ls "$d"/pickle/*.pkl "$d"/pickle/*.p "$d"/refcoco/*/*.p ;;
    coco_captions) ls "$d"/captions_bad.json "$d"/instances_small.json ;;
    coco_instances) ls "$d"/instances_small.json "$d"/captions_bad.json "$d"/refcoco/refcoco/instances.json ;;
    cc) ls "$d"/cc_bad.tsv ;;
    mdetr) ls "$d"/refcoco/mdetr/*.json "$d"/refcoco/mdetr_bad/*.json ;;
    gqa) ls "$d"/gqa/*.json ;;
    nlvr2) ls "$d"/nlvr2/*.json ;;
    snli_ve) ls "$d"/snli_ve/*.jsonl ;;
    vcr) ls "$d"/vcr/*.jsonl ;;
    aokvqa) ls "$d"/aokvqa/*.json ;;
    image) find "$FIX"/openclipart -name '*.png' ;;
    config) ls "$ROOT"/configs/*.json "$ROOT"/configs/study/*.json 2>/dev/null ;;
    results) ls "$FIX"/eval/*.json ;;
  esac
}

make_seeds() {  # target -> $FUZZ_BUILD/seeds/<target>
  local t=$1 out=$FUZZ_BUILD/seeds/$1 d=$FIX/data i=0 f
  rm -rf "$out"
  mkdir -p "$out"
  while IFS= read -r f; do
    [ -n "$f" ] && cp "$f" "$out/$(printf '%03d' $i)_$(basename "$f" | tr -c 'A-Za-z0-9._\n-' '_')" && i=$((i + 1))
  done < <(seed_files "$t")
  case $t in
    refcoco)
      join2 "$d/refcoco/refcoco/refs(unc).p" "$d/refcoco/refcoco/instances.json" >"$out/unc"
      join2 "$d/refcoco/refcoco/refs(umd).p" "$d/refcoco/refcoco/instances.json" >"$out/umd"
      join2 "$d/refcoco/bad/refs(unc).p" "$d/refcoco/bad/instances.json" >"$out/bad"
      join2 "$d/pickle/refs_proto4.p" "$d/refcoco/refcoco/instances.json" >"$out/proto4" ;;
    vqa_v2 | vqa_cp)
      join2 "$d"/vqa/v2_OpenEnded_mscoco_val2014_questions.json "$d"/vqa/v2_mscoco_val2014_annotations.json >"$out/v2"
      join2 "$d"/vqa/bad/v2_OpenEnded_mscoco_val2014_questions.json "$d"/vqa/bad/v2_mscoco_val2014_annotations.json >"$out/v2_bad"
      join2 "$d"/vqacp/vqacp_v2_test_questions.json "$d"/vqacp/vqacp_v2_test_annotations.json >"$out/cp" ;;
    config)
      # --set overrides after the separator, one per line.
      { cat "$ROOT"/configs/quick_topk.json; printf '%s' "$SEP"
        printf '%s\n' moe.top_k=1 router.name=smoes router.num_bins=2 'data.mixture={"vqa_v2": 2}' \
          'train.freeze=["experts"]' moe.layer_experts=[] data.root=elsewhere; } >"$out/with_set"
      { printf '{}%s' "$SEP"; printf '%s\n' model.n_layers=2 'moe={"enabled": false}' train.lr=1e-3; } >"$out/set_only" ;;
    image) SMOES_FUZZ_WRITE_SEEDS=$out "$FUZZ_BUILD/fuzz_image" ;;
    checkpoint) SMOES_FUZZ_WRITE_SEEDS=$out "$FUZZ_BUILD/fuzz_checkpoint" ;;
  esac
  [ -n "$(ls -A "$out")" ] || { echo "fuzz: no seeds for $t" >&2; exit 1; }
}

dict_args() {  # the JSON dictionary for the JSON readers
  case $1 in pickle | image | checkpoint | cc) ;; *) echo "-dict=$ROOT/fuzz/json.dict" ;; esac
}

targets() {
  if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat "$FUZZ_BUILD/targets.txt"; fi
}

# A scratch folder for the files a target writes (fuzz/fuzz_common.h), removed
# after the run even when the target aborts.
scratch_dir() { mktemp -d -p /dev/shm smoes-fuzz.XXXXXX 2>/dev/null || mktemp -d; }

# libtorch has no frame pointers: only the slow unwinder sees the frames
# scripts/lsan.supp names (PyTorchStreamReader::init), so the checkpoint
# target's mallocs use it (8 frames reach it, and cost less than the default 30).
asan_options() { if [ "$1" = checkpoint ]; then echo "$ASAN_OPTIONS:fast_unwind_on_malloc=0:malloc_context_size=8"; else echo "$ASAN_OPTIONS"; fi; }

count_artifacts() { find "$1" -maxdepth 1 -name "$2-*" | wc -l; }  # dir, kind

stat_of() { grep -m1 "^stat::$1:" "$2" | awk '{print $2}'; }

# Modes ------------------------------------------------------------------------

smoke() {
  local failed=0 t start scratch regress
  for t in $(targets "$@"); do
    start=$(date +%s.%N)
    make_seeds "$t"
    scratch=$(scratch_dir)
    mkdir -p "$scratch/new"
    local log=$FUZZ_BUILD/logs/smoke_$t.log
    mkdir -p "$FUZZ_BUILD/logs" "$FUZZ_BUILD/artifacts/$t"
    local how=(-max_total_time="$SMOKE_SECONDS")
    case " $SMOKE_SEEDS_ONLY " in *" $t "*) how=(-runs=0) ;; esac
    # shellcheck disable=SC2046
    if ! SMOES_FUZZ_TMP=$scratch ASAN_OPTIONS=$(asan_options "$t") "$FUZZ_BUILD/fuzz_$t" "${how[@]}" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
        -print_final_stats=1 -artifact_prefix="$FUZZ_BUILD/artifacts/$t/" $(dict_args "$t") \
        "$scratch/new" "$FUZZ_BUILD/seeds/$t" >"$log" 2>&1; then
      echo "fuzz smoke: $t FAILED (log: $log)"; tail -n 40 "$log"; failed=1
    fi
    regress=$FIX/fuzz/$t
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
      if ! SMOES_FUZZ_TMP=$scratch ASAN_OPTIONS=$(asan_options "$t") "$FUZZ_BUILD/fuzz_$t" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" "$regress"/* >>"$log" 2>&1; then
        echo "fuzz smoke: $t FAILED on a regression input of tests/fixtures/fuzz/$t (log: $log)"; tail -n 40 "$log"; failed=1
      fi
    fi
    rm -rf "$scratch"
    printf 'fuzz smoke: %-15s %8s executions  %5.1f s\n' "$t" "$(stat_of number_of_executed_units "$log")" \
      "$(awk "BEGIN {print $(date +%s.%N) - $start}")"
  done
  return $failed
}

full() {
  local summary=${FUZZ_SUMMARY:-$FUZZ_BUILD/summary.md} t failed=0
  mkdir -p "$FUZZ_BUILD/logs"
  {
    echo "# Fuzzing summary ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" describe --always --dirty 2>/dev/null))"
    echo
    echo "Command: scripts/fuzz.sh full; per target: -runs=$FUZZ_RUNS -max_total_time=$FUZZ_MAX_SECONDS" \
      "-timeout=$FUZZ_TIMEOUT -rss_limit_mb=$FUZZ_RSS_MB -detect_leaks=1, ASan + UBSan."
    echo
    echo "| target | executions | seconds | exec/s | corpus | crashes | hangs | leaks | OOMs |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  } >"$summary"
  for t in $(targets "$@"); do
    make_seeds "$t"
    local corpus=$FUZZ_BUILD/corpus/$t art=$FUZZ_BUILD/artifacts/$t log=$FUZZ_BUILD/logs/full_$t.log
    mkdir -p "$corpus" "$art"
    local kind before=()  # artifacts of each kind already there
    for kind in crash timeout leak oom; do before+=("$(count_artifacts "$art" "$kind")"); done
    local start end rc=0 scratch
    scratch=$(scratch_dir)
    start=$(date +%s)
    local fork=()
    [ "${FUZZ_FORK:-0}" = 1 ] && fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    # shellcheck disable=SC2046
    SMOES_FUZZ_TMP=$scratch ASAN_OPTIONS=$(asan_options "$t") "$FUZZ_BUILD/fuzz_$t" -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_MAX_SECONDS" -timeout="$FUZZ_TIMEOUT" \
      -rss_limit_mb="$FUZZ_RSS_MB" -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$art/" "${fork[@]}" \
      $(dict_args "$t") "$corpus" "$FUZZ_BUILD/seeds/$t" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    rm -rf "$scratch"
    local execs secs crashes hangs leaks ooms
    execs=$(stat_of number_of_executed_units "$log")
    # Fork mode prints "#<executions>: cov: ..." lines instead of final stats.
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+:' "$log" | tail -n 1 | tr -d '#:')
    secs=$((end - start))
    crashes=$(($(count_artifacts "$art" crash) - before[0]))
    hangs=$(($(count_artifacts "$art" timeout) - before[1]))
    leaks=$(($(count_artifacts "$art" leak) - before[2]))
    ooms=$(($(count_artifacts "$art" oom) - before[3]))
    # A crash with no artifact (e.g. the fuzzer itself died) still counts.
    if [ "$rc" -ne 0 ] && [ $((crashes + hangs + leaks + ooms)) -eq 0 ]; then crashes=1; fi
    [ $((crashes + hangs + leaks + ooms)) -eq 0 ] || failed=1
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" "$secs" \
      "$(stat_of average_exec_per_sec "$log")" "$(ls "$corpus" | wc -l)" "$crashes" "$hangs" "$leaks" "$ooms" \
      | tee -a "$summary"
  done
  echo "fuzz: summary in $summary"
  return $failed
}

case $MODE in
  build) build ;;
  smoke) build; smoke "$@" ;;
  full) build; full "$@" ;;
  *) echo "usage: scripts/fuzz.sh build | smoke [target...] | full [target...]" >&2; exit 2 ;;
esac
