#!/usr/bin/env bash
# run_raw_to_bpm.sh — the bundle example end to end (CTest ppgkd_edge_raw_to_bpm):
#   1. trains r1 for 1 epoch on the built-in synthetic data (the example needs a model, not a
#      good one) and exports it with --input-rate 125, in f32 and int8 (model_data.{h,c} carry
#      the blob and the bundle);
#   2. writes a raw recording at 125 Hz (64 s; PPG pulse at a heart rate gliding 70 -> 110 BPM,
#      accelerometer swinging at 1.5 Hz, a DC offset on every channel) as CSV;
#   3. builds examples/raw_to_bpm for the host (the CSV on stdin) and for a Cortex-M4 (the same
#      samples compiled in) and runs the M4 image under qemu (mps2-an386, semihosting);
#   4. checks that host and M4 agree bit for bit on every window (time, BPM, confidence, tracked
#      BPM and confidence) and in the CRC over all of them;
#   5. compares the f32 example with `ppgkd predict --stream` (libtorch, double-precision DSP) on
#      the same CSV: the same windows, per-window BPM within TOL_BPM (0.5) on at least 95 % and
#      tracked BPM within TOL_BPM on at least 95 %, and prints the largest differences.
# usage: edge/examples/run_raw_to_bpm.sh PPGKD OUT_DIR
# Exit: 0 pass; 1 fail; 77 (skip) without arm-none-eabi-gcc or qemu-system-arm, unless
# PPGKD_REQUIRE_DATA=1 (CI), which turns that into 1.
set -euo pipefail
ppgkd="$(realpath "${1:?usage: run_raw_to_bpm.sh PPGKD OUT_DIR}")"
out="$(realpath -m "${2:?usage: run_raw_to_bpm.sh PPGKD OUT_DIR}")"
edge="$(cd "$(dirname "$0")/.." && pwd)"
cc="${CC:-cc}"
TOL_BPM=0.5

skip() {
  echo "SKIPPED: $1"
  if [ "${PPGKD_REQUIRE_DATA:-0}" = "1" ]; then exit 1; fi
  exit 77
}
die() { echo "run_raw_to_bpm.sh: $*" >&2; exit 1; }
command -v arm-none-eabi-gcc >/dev/null || skip "arm-none-eabi-gcc not found"
command -v qemu-system-arm >/dev/null || skip "qemu-system-arm not found"
mkdir -p "$out"

# ---------------------------------------------------------------- model and bundles
if [ ! -f "$out/model/fold-0/model.pt" ]; then
  rm -rf "$out/model"
  "$ppgkd" train --data synthetic --model r1 --folds 1 --epochs 1 --threads 1 \
    --cache "$out/cache" --out "$out/model" >"$out/train.log" 2>&1 ||
    { tail -20 "$out/train.log"; die "training failed"; }
fi
for q in f32 int8; do
  calib=()
  if [ "$q" = int8 ]; then calib=(--calib-data synthetic --cache "$out/cache"); fi
  "$ppgkd" export --model "$out/model/fold-0" --out "$out/export-$q" --quant "$q" \
    --input-rate 125 --threads 1 "${calib[@]}" >"$out/export-$q.log" 2>&1 ||
    { cat "$out/export-$q.log"; die "export ($q) failed"; }
done

# ---------------------------------------------------------------- the raw recording
awk 'BEGIN {
  fs = 125; n = 64 * fs; pi = 3.14159265358979; phase = 0; seed = 12345;
  print "ppg,acc_x,acc_y,acc_z";
  for (i = 0; i < n; ++i) {
    t = i / fs; hr = 70 + 40 * t / 64;            # BPM
    phase += 2 * pi * hr / 60 / fs;
    seed = (seed * 1103515245 + 12345) % 2147483648; noise = seed / 2147483648 - 0.5;
    ppg = 2000 + 40 * sin(phase) + 15 * sin(2 * phase + 0.8) + 4 * noise;
    ax = 0.1 + 0.3 * sin(2 * pi * 1.5 * t); ay = -0.9 + 0.1 * sin(2 * pi * 3 * t); az = 0.2;
    printf "%.4f,%.5f,%.5f,%.5f\n", ppg, ax, ay, az;
  }
}' >"$out/raw.csv"
# The same samples as C (the M4 has no file system): float literals that parse to the bits
# strtof gives on the host.
awk -F, 'NR == 1 { print "#include <stdint.h>\nconst float rtb_raw_input[][4] = {"; next }
  { printf "  {%sf, %sf, %sf, %sf},\n", $1, $2, $3, $4; n++ }
  END { print "};\nconst uint32_t rtb_raw_rows = " n ";" }' "$out/raw.csv" >"$out/raw_input.c"

# ---------------------------------------------------------------- host and M4 builds, runs
srcs=("$edge"/src/*.c "$edge"/src/ops/*.c "$edge/examples/raw_to_bpm.c"
  "$edge/examples/raw_to_bpm_main.c")
status=0
for q in f32 int8; do
  ex="$out/export-$q"
  "$cc" -std=c99 -ffp-contract=off -O2 -Wall -Wextra -Wpedantic -Werror -I"$edge/include" \
    -I"$edge/examples" -I"$ex" "${srcs[@]}" "$ex/model_data.c" "$edge/port/host/port.c" -lm \
    -o "$out/host-$q"
  "$out/host-$q" <"$out/raw.csv" >"$out/host-$q.txt" || die "host run ($q) failed: $(tail -1 "$out/host-$q.txt")"
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -std=c99 \
    -ffp-contract=off -Wall -Wextra -Wpedantic -Werror -ffunction-sections -fdata-sections \
    -DRTB_EMBEDDED -I"$edge/include" -I"$edge/examples" -I"$ex" "${srcs[@]}" "$ex/model_data.c" \
    "$out/raw_input.c" "$edge/port/cortex_m4/startup.c" "$edge/port/cortex_m4/port.c" \
    -T "$edge/port/cortex_m4/mps2_an386.ld" --specs=rdimon.specs -nostartfiles \
    -Wl,--gc-sections -lm -o "$out/m4-$q.elf"
  arm-none-eabi-size "$out/m4-$q.elf" | tail -1
  timeout "${QEMU_TIMEOUT:-900}" qemu-system-arm -M mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$out/m4-$q.elf" \
    >"$out/m4-$q.txt" 2>&1 || true
  tr -d '\r' <"$out/m4-$q.txt" | grep -E '^(window|[0-9]+,|crc )' >"$out/m4-$q.rows" || true
  grep -E '^(window|[0-9]+,|crc )' "$out/host-$q.txt" >"$out/host-$q.rows" || true
  windows=$(grep -c '^[0-9]' "$out/host-$q.rows" || true)
  if [ "$windows" -lt 20 ]; then
    echo "FAIL $q: only $windows windows on the host"; status=1
  elif cmp -s "$out/host-$q.rows" "$out/m4-$q.rows"; then
    echo "$q: host and Cortex-M4 bit-exact on $windows windows ($(grep '^crc' "$out/host-$q.rows"))"
  else
    echo "FAIL $q: host and Cortex-M4 differ"; diff "$out/host-$q.rows" "$out/m4-$q.rows" | head -5
    status=1
  fi
done

# ---------------------------------------------------------------- against ppgkd predict --stream
"$ppgkd" predict --model "$out/model/fold-0" --input "$out/raw.csv" --fs 125 --stream \
  --out "$out/predict.csv" >"$out/predict.log" 2>&1 || { cat "$out/predict.log"; die "predict failed"; }
for q in f32 int8; do
  # predict rows: t_s(window end),hr_bpm,confidence,tracked_bpm (a header first); example rows:
  # window,t_end_s,hr_bpm,confidence,tracked_bpm,bits.
  awk -F, -v tol="$TOL_BPM" -v q="$q" -v strict=$([ "$q" = f32 ] && echo 1 || echo 0) '
    FNR == 1 { next }
    NR == FNR { hr[$1 + 0] = $2; tr[$1 + 0] = $4; n_pred++; next }
    /^[0-9]/ { t = $2 + 0; if (!(t in hr)) { missing++; next }
      d = hr[t] - $3; if (d < 0) d = -d; if (d > dmax) dmax = d; if (d <= tol) ok++;
      e = tr[t] - $5; if (e < 0) e = -e; if (e > emax) emax = e; if (e <= tol) tok++; n++ }
    END {
      printf "%s vs predict --stream: %d windows (predict %d, unmatched %d); |BPM diff| <= %.1f on %d (max %.3f), tracked on %d (max %.3f)\n",
        q, n, n_pred, missing, tol, ok, dmax, tok, emax;
      if (strict && (n != n_pred || missing > 0 || ok < 0.95 * n || tok < 0.95 * n)) exit 1 }' \
    "$out/predict.csv" "$out/host-$q.rows" || { echo "FAIL $q: beyond the tolerance"; status=1; }
done
[ "$status" -eq 0 ] && echo "raw_to_bpm: PASS"
exit "$status"
