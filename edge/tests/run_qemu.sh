#!/usr/bin/env bash
# run_qemu.sh — cross-compile the edge tests for a Cortex-M4 and run them under qemu
# (mps2-an386, semihosting, -icount shift=0 so the instruction counts are exact).
#   usage: edge/tests/run_qemu.sh [OUT_DIR [SOURCES...]]   (sources relative to edge/)
# CTest passes the source lists from edge/CMakeLists.txt; by hand the defaults below are used.
# Exit: 0 when the tests print the pass sentinel and "N passed, 0 failed"; 77 (skip) when the
# toolchain or qemu is absent, unless PPGKD_REQUIRE_DATA=1 (CI), which turns that into 1.
set -euo pipefail
edge="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$edge/../build-edge/edge/cortex_m4}"
shift || true

skip() {
  echo "SKIPPED: $1"
  if [ "${PPGKD_REQUIRE_DATA:-0}" = "1" ]; then exit 1; fi
  exit 77
}
command -v arm-none-eabi-gcc >/dev/null || skip "arm-none-eabi-gcc not found"
command -v qemu-system-arm >/dev/null || skip "qemu-system-arm not found"

if [ "$#" -gt 0 ]; then
  sources=("$@")
else
  cd "$edge"
  sources=(src/*.c src/ops/*.c tests/*.c)
fi
cd "$edge"
mkdir -p "$out"
elf="$out/ppgkd_edge_tests.elf"
log="$out/qemu.log"

arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 \
  -std=c99 -Wall -Wextra -Wpedantic -Werror -ffunction-sections -fdata-sections \
  -Iinclude -Itests "${sources[@]}" port/cortex_m4/startup.c port/cortex_m4/port.c \
  -T port/cortex_m4/mps2_an386.ld --specs=rdimon.specs -nostartfiles -Wl,--gc-sections -lm \
  -o "$elf"
arm-none-eabi-size "$elf"

# Emulated instructions are slow but bounded: the whole suite is a few hundred million.
timeout 600 qemu-system-arm -M mps2-an386 -nographic \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" | tee "$log" || true

if grep -q '~~~ALL TESTS PASSED~~~' "$log" && grep -Eq '^[0-9]+ passed, 0 failed' "$log"; then
  exit 0
fi
echo "run_qemu.sh: the Cortex-M4 tests failed (log: $log)"
exit 1
