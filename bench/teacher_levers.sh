#!/usr/bin/env bash
# The teacher ablation of docs/RESULTS.md ("Teachers that transfer"): each lever of the teacher
# recipe measured over several seeds, per window, with the online filter and offline.
#
# Selection never sees a test subject: every configuration trains on IEEE SPC 2015 train and
# BAMI-1 (the subjects of the 4-fold CV) and is scored on BAMI-2, a fixed pool of 23 subjects that
# is never in any test fold (`--leave-dataset-out --fold 1`: the datasets sort as bami1, bami2,
# spc2015). The choice of levers rests on this table alone. The same configurations are then
# scored leave-dataset-out on SPC 2015 (trained on BAMI-1 + BAMI-2), a report, not a selection.
#
# usage: bench/teacher_levers.sh PPGKD_BINARY OUT_DIR [DATA_ROOT] [MODEL] [EPOCHS] [SEEDS]
#   defaults: ../shared/data, r6, 20 epochs, seeds "1 2"
#   LEVERS="name:flags;..." overrides the list of trained configurations; JOBS=2 runs two at a
#   time; FOLDS="1 2" (1 = the BAMI-2 pool, 2 = leave-dataset-out on SPC 2015) picks the sides.
#   Decode-only levers are rows "models|tag:eval flags" appended to the table's arguments, e.g.
#   DECODE="baseline|acc:--acc-aware".
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n 2,15p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 out=$2 data=${3:-../shared/data} model=${4:-r6} epochs=${5:-20} seeds=${6:-"1 2"}
jobs=${JOBS:-2}
mkdir -p "$out"
pool="$data/ieee_spc2015,$data/bami1,$data/bami2"
levers=${LEVERS:-"baseline:;motion-synthetic:--motion-augment synthetic;motion-transfer:--motion-augment transfer;motion-both:--motion-augment both"}

# train NAME FOLD SEED FLAGS: one model; FOLD 1 = BAMI-2 (selection), 2 = SPC 2015 (transfer).
train() {
  local name=$1 fold=$2 seed=$3 flags=$4 dir="$out/$1/fold$2-seed$3"
  [[ -f "$dir/model.json" ]] && return 0
  local m=(--model "$model")
  [[ " $flags " == *" --model "* ]] && m=()  # a lever may name its own model (e.g. r6,spectral=16)
  # shellcheck disable=SC2086
  "$ppgkd" train --data "$pool" --cache "$out/cache" "${m[@]}" --leave-dataset-out \
    --fold "$fold" --epochs "$epochs" --seed "$seed" --threads 1 $flags --out "$dir" \
    >"$dir.log" 2>&1 || { echo "FAILED: $dir (see $dir.log)" >&2; return 1; }
}

# What the pool holds, for the record.
"$ppgkd" data summary --data "$data" >"$out/data_summary.txt"
queue=()
IFS=';' read -ra entries <<<"$levers"
for fold in ${FOLDS:-1 2}; do
  for entry in "${entries[@]}"; do
    for seed in $seeds; do queue+=("${entry%%:*}|$fold|$seed|${entry#*:}"); done
  done
done
mkdir -p "$out"
for item in "${queue[@]}"; do
  IFS='|' read -r name fold seed flags <<<"$item"
  mkdir -p "$out/$name"
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
  train "$name" "$fold" "$seed" "$flags" &
done
wait

python3 "$(dirname "$0")/teacher_levers_table.py" "$ppgkd" "$out" "$pool" "${entries[@]}" \
  ${DECODE:+$DECODE} >"$out/levers.md"
cat "$out/levers.md"
