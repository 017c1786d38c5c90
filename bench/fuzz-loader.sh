#!/usr/bin/env bash
# fuzz-loader.sh — fuzz the edge blob loader and ppgkd_run (edge/fuzz/fuzz_loader.c) with
# libFuzzer + ASan + UBSan for SECONDS seconds, starting from valid f32/int8 seed blobs.
#   usage: bench/fuzz-loader.sh [SECONDS [BUILD_DIR]]      (defaults: 600, build-fuzz)
# Builds edge/ alone with clang into BUILD_DIR, writes the seeds into BUILD_DIR/corpus (kept
# between runs, so a second run continues from the corpus) and prints libFuzzer's final stats.
# Exit: 0 when the time ran out with no crash or sanitizer report; libFuzzer's non-zero code
# (and the crashing input in BUILD_DIR/artifacts/) otherwise; 77 (skip) when clang is absent,
# unless PPGKD_REQUIRE_DATA=1 (CI), which turns that into 1. The CTest ppgkd_edge_fuzz_smoke runs
# it for 20 s.
set -euo pipefail
seconds="${1:-600}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "${2:-$root/build-fuzz}")"

skip() {
  echo "SKIPPED: $1"
  if [ "${PPGKD_REQUIRE_DATA:-0}" = "1" ]; then exit 1; fi
  exit 77
}
clang=$(command -v clang || command -v clang-14 || true)
[ -n "$clang" ] || skip "clang not found (apt-get install clang)"

if [ ! -f "$build/CMakeCache.txt" ]; then
  mkdir -p "$build"
  CC="$clang" cmake -S "$root" -B "$build" -DPPGKD_EDGE_FUZZ=ON -DPPGKD_WITH_TORCH=OFF \
    -DPPGKD_BUILD_TESTS=OFF -DPPGKD_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
fi
cmake --build "$build" --target ppgkd_edge_fuzz_loader ppgkd_edge_fuzz_seeds >/dev/null
bin="$build/edge"
mkdir -p "$build/corpus" "$build/artifacts"
"$bin/ppgkd_edge_fuzz_seeds" "$build/corpus" >/dev/null
echo "fuzzing ppgkd_init + ppgkd_run for ${seconds} s (corpus $build/corpus)"
status=0
"$bin/ppgkd_edge_fuzz_loader" "$build/corpus" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" >"$build/fuzz.log" 2>&1 || status=$?
# The summary: libFuzzer's last progress line, its final stats, and any sanitizer report.
grep -E "^#[0-9]+" "$build/fuzz.log" | tail -1 || true
grep -E "^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" "$build/fuzz.log" || true
if [ "$status" -ne 0 ]; then
  echo "FAILED: libFuzzer exited with $status; full log: $build/fuzz.log"
  exit "$status"
fi
echo "no crash, no sanitizer report"
