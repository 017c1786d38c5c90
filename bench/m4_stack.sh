#!/usr/bin/env bash
# m4_stack.sh — arena and ppgkd_run stack of two int8 ResNets on an emulated Cortex-M4
# (bench/m4_stack.c: blob-builder models, no training, seconds to run).
#   usage: bench/m4_stack.sh [EDGE_DIR [OUT_DIR]]   (defaults: edge/ of this checkout, a temp dir)
# EDGE_DIR may be another revision's edge/ (e.g. `git archive REV edge | tar -x -C DIR`, then
# DIR/edge) to compare before and after; the blob builder always comes from this checkout.
# Needs arm-none-eabi-gcc (newlib, rdimon) and qemu-system-arm; exit 77 (skip) without them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
edge="${1:-$root/edge}"
out="${2:-$(mktemp -d)}"
for t in arm-none-eabi-gcc qemu-system-arm; do
  command -v "$t" >/dev/null || { echo "m4_stack: $t not found, skipping" >&2; exit 77; }
done
[ -f "$edge/include/ppgkd_edge.h" ] || { echo "m4_stack: $edge: not an edge/ directory" >&2; exit 1; }
mkdir -p "$out"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -std=c99 \
  -ffp-contract=off -ffunction-sections -fdata-sections -I"$edge/include" -I"$root/edge/tests" \
  "$here/m4_stack.c" "$root/edge/tests/blob_builder.c" "$edge"/src/*.c "$edge"/src/ops/*.c \
  "$root/edge/port/cortex_m4/startup.c" "$root/edge/port/cortex_m4/port.c" \
  -T "$root/edge/port/cortex_m4/mps2_an386.ld" --specs=rdimon.specs -nostartfiles \
  -Wl,--gc-sections -lm -o "$out/m4_stack.elf"
timeout 300 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
  -icount shift=0 -kernel "$out/m4_stack.elf" | grep '^STACK'
