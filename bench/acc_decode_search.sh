#!/usr/bin/env bash
# The choice of the accelerometer-aware decoding defaults (docs/RESULTS.md, "Teachers that
# transfer"): a grid over the penalty's depth, width and half-cadence option, scored on the BAMI-2
# selection pool only (models of bench/teacher_levers.sh, fold 1: trained on SPC 2015 train +
# BAMI-1, never on BAMI-2), per window, online and offline. No test subject of any fold is read.
#
# usage: bench/acc_decode_search.sh PPGKD_BINARY LEVERS_DIR [LEVER] [DATA_ROOT]
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n 2,7p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 runs=$2 lever=${3:-baseline} data=${4:-../shared/data}
pool="$data/ieee_spc2015,$data/bami1,$data/bami2"
echo "| depth | width BPM | half cadence | min share | window | online | offline |"
echo "|---|---|---|---|---|---|---|"
mae() {  # MODEL DECODE FLAGS...: subject-averaged MAE on the model's test fold (BAMI-2)
  local model=$1 decode=$2
  shift 2
  "$ppgkd" eval --model "$model" --data "$pool" --cache "$runs/cache" --fold-test \
    --decode "$decode" --threads 1 "$@" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"]["mae_bpm"])'
}
row() {  # LABEL... then flags after --
  local label=$1
  shift
  local cells=()
  for decode in window online offline; do
    local vals=()
    for m in "$runs/$lever"/fold1-seed*/; do vals+=("$(mae "$m" "$decode" "$@")"); done
    cells+=("$(python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"{s.mean(v):.2f}")' "${vals[@]}")")
  done
  echo "| $label | ${cells[0]} | ${cells[1]} | ${cells[2]} |"
}
row "off | – | – | –"
for depth in 0.5 0.8 0.95; do
  for width in 3 6; do
    for half in no yes; do
      flags=(--acc-aware --acc-depth "$depth" --acc-width "$width" --acc-min-share 0.4)
      [[ $half == yes ]] && flags+=(--acc-half)
      row "$depth | $width | $half | 0.4" "${flags[@]}"
    done
  done
done
