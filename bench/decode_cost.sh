#!/usr/bin/env bash
# decode_cost.sh — cost of one per-window decode (bench/decode_cost.c) built against an edge/
# directory: host microseconds (portable build: -O2 -std=c99 -ffp-contract=off, no AVX2), or with
# M4=1 Cortex-M4 instructions under qemu -icount (the edge's M4 flags; exit 77 without the tools).
#   usage: [M4=1] bench/decode_cost.sh [EDGE_DIR] [SIGMA...]   (defaults: edge/ here; 0 3)
# EDGE_DIR may be another revision's edge/ (`git archive REV edge | tar -x -C DIR`, then DIR/edge)
# to measure before and after side by side; a revision without posterior smoothing ignores SIGMA.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
edge="${1:-$root/edge}"
shift || true
[ -f "$edge/include/ppgkd_edge_ops.h" ] || { echo "decode_cost: $edge: not an edge/ directory" >&2; exit 1; }
if [ $# -eq 0 ]; then set -- 0 3; fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if [ "${M4:-0}" != 1 ]; then
  cc -O2 -std=c99 -ffp-contract=off -I"$edge/include" -I"$edge/src" "$here/decode_cost.c" \
    "$edge/src/decode.c" "$edge/src/nolibm_math.c" -lm -o "$out/decode_cost"
  "$out/decode_cost" "$@"
  exit 0
fi
for t in arm-none-eabi-gcc qemu-system-arm; do
  command -v "$t" >/dev/null || { echo "decode_cost: $t not found, skipping" >&2; exit 77; }
done
sigmas=$(IFS=,; echo "$*")
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -std=c99 \
  -ffp-contract=off -ffunction-sections -fdata-sections -DM4_QEMU "-DM4_SIGMAS=$sigmas" \
  -I"$edge/include" -I"$edge/src" "$here/decode_cost.c" "$edge/src/decode.c" \
  "$edge/src/nolibm_math.c" "$root/edge/port/cortex_m4/startup.c" \
  "$root/edge/port/cortex_m4/port.c" -T "$root/edge/port/cortex_m4/mps2_an386.ld" \
  --specs=rdimon.specs -nostartfiles -Wl,--gc-sections -lm -o "$out/decode_cost.elf"
timeout 300 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
  -icount shift=0 -kernel "$out/decode_cost.elf" | grep '^decode'
