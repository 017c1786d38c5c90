#!/usr/bin/env bash
# run_if_cpu.sh — run a test binary only on a CPU with the given x86 features (as /proc/cpuinfo
# names them), else skip with exit 77 and a sentence saying why (CTest SKIP_RETURN_CODE).
#   usage: edge/tests/run_if_cpu.sh "avx2 fma" BINARY [ARGS...]
set -euo pipefail
features="$1"
shift
for f in $features; do
  if ! grep -qw "$f" /proc/cpuinfo 2>/dev/null; then
    echo "SKIPPED: this CPU lacks $f (or /proc/cpuinfo is unreadable); $(basename "$1") not run"
    exit 77
  fi
done
exec "$@"
