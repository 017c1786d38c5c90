#!/usr/bin/env bash
# decode_cost.sh — host time of one per-window decode (bench/decode_cost.c) built against an edge/
# directory, portable build (-O2 -std=c99 -ffp-contract=off, no AVX2).
#   usage: bench/decode_cost.sh [EDGE_DIR] [SIGMA...]   (defaults: edge/ of this checkout; 0 3)
# EDGE_DIR may be another revision's edge/ (`git archive REV edge | tar -x -C DIR`, then DIR/edge)
# to time before and after side by side; a revision without posterior smoothing ignores SIGMA.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
edge="${1:-$(dirname "$here")/edge}"
shift || true
[ -f "$edge/include/ppgkd_edge_ops.h" ] || { echo "decode_cost: $edge: not an edge/ directory" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c99 -ffp-contract=off -I"$edge/include" -I"$edge/src" "$here/decode_cost.c" \
  "$edge/src/decode.c" "$edge/src/nolibm_math.c" -lm -o "$out/decode_cost"
if [ $# -eq 0 ]; then set -- 0 3; fi
"$out/decode_cost" "$@"
