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
# Skips (exit 77) without arm-none-eabi-gcc, qemu-system-arm or python3, unless
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
for t in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm python3 "${CC:-cc}"; do
  command -v "$t" >/dev/null || skip "$t not found"
done

# --force: re-measure with the current runtime (models and exports in OUT_DIR are reused).
"$repo/bench/m4_ladder.sh" --rungs "r1 m1" --quants "f32 int8" --windows 3 --force \
  "$ppgkd" "$out" >"$out.log" 2>&1 || { tail -30 "$out.log"; echo "m4_ladder.sh failed"; exit 1; }

python3 - "$out/m4_ladder.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = []
for r in rows:
    name = f"{r['rung']} {r['quant']}"
    if r["fits"] != "yes":
        bad.append(f"{name}: not run ({r['note']})")
        continue
    eq, n = r["host_m4_logits_equal"].split("/")
    out_eq = r["host_m4_bpm_conf_equal"].split()[0].split("/")
    print(f"{name}: logits bit-identical on {eq}/{n} windows, BPM and confidence on "
          f"{out_eq[0]}/{out_eq[1]}; {r['instr_per_mac']} M4 instructions per MAC")
    if int(n) != 3 or eq != n or out_eq[0] != out_eq[1] or out_eq[1] != n:
        bad.append(f"{name}: host and M4 differ ({r['host_m4_logits_equal']} logits, "
                   f"{r['host_m4_bpm_conf_equal']} BPM/confidence)")
if len(rows) != 4:
    bad.append(f"expected 4 rows (r1, m1 x f32, int8), got {len(rows)}")
for b in bad:
    print("FAIL:", b)
print("host = M4: all equal" if not bad else "host = M4: MISMATCH")
sys.exit(1 if bad else 0)
PY
