#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz: builds them with clang (ASan + UBSan, coverage) in a build
# directory of their own, writes the seed corpora (fuzz_make_seeds), replays every input in
# tests/fuzz/regressions/<target>/ (crashes found before, kept as regression tests), then fuzzes
# each target for --seconds, keeping its corpus in <build dir>/corpus/<target> between runs.
# A crash stops the run with exit 1 and the input's path (add it to regressions/<target>/ with
# the fix). CTest runs it for a few seconds per target (fuzz_smoke); a long run:
#   tests/fuzz/run.sh --seconds 3600 [target ...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_PER_TARGET=30
BUILD="$ROOT/build-fuzz"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(kafka_messages record_batch config segment_recovery)

command -v clang++ > /dev/null || { echo "fuzz: clang++ is missing (deploy/install-deps.sh installs clang)" >&2; exit 2; }
mkdir -p "$BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DGREGOR_FUZZ=ON -DGREGOR_BENCHMARKS=OFF > "$BUILD/cmake.log" \
    || { tail -20 "$BUILD/cmake.log"; exit 2; }
fi
echo "[fuzz] building ${TARGETS[*]} in $BUILD"
ninja -C "$BUILD" fuzz_make_seeds $(printf 'fuzz_%s ' "${TARGETS[@]}") > "$BUILD/build.log" 2>&1 \
  || { tail -30 "$BUILD/build.log"; exit 2; }
rm -rf "$BUILD/seeds"
"$BUILD/tests/fuzz/fuzz_make_seeds" "$BUILD/seeds" "$ROOT"
mkdir -p "$BUILD/artifacts"
status=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  regressions="$ROOT/tests/fuzz/regressions/$t"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$bin" "$regressions"/* > "$BUILD/artifacts/$t-regressions.log" 2>&1; then
      echo "[fuzz] $t: a regression input fails again:"; tail -30 "$BUILD/artifacts/$t-regressions.log"
      status=1; continue
    fi
    echo "[fuzz] $t: $(ls "$regressions" | wc -l) regression input(s) pass"
  fi
  mkdir -p "$BUILD/corpus/$t"
  log="$BUILD/artifacts/$t.log"
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=25 -rss_limit_mb=4096 \
       -artifact_prefix="$BUILD/artifacts/$t-" "$BUILD/corpus/$t" "$BUILD/seeds/$t" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "[fuzz] $t: ${runs:-?} executions in ${SECONDS_PER_TARGET} s, 0 crashes, corpus $(ls "$BUILD/corpus/$t" | wc -l) inputs"
  else
    echo "[fuzz] $t: FOUND A CRASH"; grep -E "ERROR|FATAL|SUMMARY|Test unit written" "$log" | head -10
    echo "[fuzz] full output: $log"
    status=1
  fi
done
exit $status
