#!/usr/bin/env bash
# host_m4_parity.sh — host = Cortex-M4 for exported models, in CTest (edge_host_m4_parity).
#   usage: tests/edge/host_m4_parity.sh PPGKD OUT_DIR
# Trains r1 and m1 for one epoch on synthetic data, exports each in f32 and int8 and runs the
# export on 3 windows (real SPC 2015 recordings when ../shared/data is there, else synthetic) on
# the host and on a Cortex-M4 under qemu, through bench/m4_ladder.sh. Passes when, for every
# model and window, the logits are bit-identical: int8 exactly by construction (integer kernels,
# the DSP ones bit-identical to the portable ones), f32 within a tolerance of 0 ulp, because both
# builds are plain C99 with -ffp-contract=off and the same operation order (the host build here
# is portable; an AVX2 + FMA host build would not be bit-identical, see edge/src/ops/simd.h);
# and BPM and confidence are bit-identical too (decoding has its own exp).
# Skips (exit 77) without arm-none-eabi-gcc or qemu-system-arm, unless
# PPGKD_REQUIRE_DATA=1 (CI), which makes that a failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ppgkd="${1:?usage: host_m4_parity.sh PPGKD OUT_DIR}"
out="${2:?usage: host_m4_parity.sh PPGKD OUT_DIR}"

skip() {
  echo "SKIPPED: $1"
  if [ "${PPGKD_REQUIRE_DATA:-0}" = "1" ]; then exit 1; fi
  exit 77
}
for t in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm "${CC:-cc}"; do
  command -v "$t" >/dev/null || skip "$t not found"
done

# --force: re-measure with the current runtime (models in OUT_DIR are reused; exports older than
# PPGKD are redone).
"$repo/bench/m4_ladder.sh" --rungs "r1 m1" --quants "f32 int8" --windows 3 --force \
  "$ppgkd" "$out" >"$out.log" 2>&1 || { tail -30 "$out.log"; echo "m4_ladder.sh failed"; exit 1; }

# The Markdown table's rows: | rung | quant | ... | instr / MAC | logits equal | BPM, conf equal |
awk -F'|' '
  function trim(x) { gsub(/^ +| +$/, "", x); return x }
  $2 ~ /^ (r1|m1) $/ {
    name = trim($2) " " trim($3); rows++
    if ($14 ~ /does not fit/) { print "FAIL: " name ": not run (" trim($14) ")"; bad++; next }
    split(trim($16), l, "/"); split(trim($17), o, "[/ ]")
    printf "%s: logits bit-identical on %s windows, BPM and confidence on %s; %s M4 instructions per MAC\n", name, trim($16), trim($17), trim($15)
    if (l[2] != 3 || l[1] != l[2] || o[1] != o[2] || o[2] != 3) { print "FAIL: " name ": host and M4 differ"; bad++ }
  }
  END {
    if (rows != 4) { print "FAIL: expected 4 rows (r1, m1 x f32, int8), got " rows; bad++ }
    print (bad ? "host = M4: MISMATCH" : "host = M4: all equal")
    exit bad ? 1 : 0
  }' "$out/m4_ladder.md"
