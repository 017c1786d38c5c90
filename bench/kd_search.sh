#!/usr/bin/env bash
# The validation search behind each distillation strategy's default hyperparameters
# (docs/RESULTS.md, "Choosing the distillation defaults").
#
# Selection never sees a test subject of any fold: teacher and students train on IEEE SPC 2015
# train + BAMI-1 (the subjects of the 4-fold CV) and are scored on BAMI-2, a fixed pool of 23
# subjects that is in no test fold (`--leave-dataset-out --fold 1`). TEACHER_DIR is such a model,
# e.g. a fold-1 model of bench/teacher_levers.sh. Students r3 and m3, 10 epochs; the score is
# the BAMI-2 MAE of the last epoch's weights (no early stopping on CV subjects).
#
# usage: bench/kd_search.sh PPGKD_BINARY TEACHER_DIR OUT_DIR [DATA_ROOT]
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 teacher=$2 out=$3 data=${4:-../shared/data}
mkdir -p "$out"
table="$out/kd_search.md"

run() {  # STUDENT STRATEGY [flags...]
  local student=$1 strategy=$2
  shift 2
  local name="$student-$strategy${*:+-}$(echo "$*" | tr -d ' -')"
  [[ -f "$out/$name/model.json" ]] || "$ppgkd" distill \
    --data "$data/ieee_spc2015,$data/bami1,$data/bami2" --cache "$out/cache" --teacher "$teacher" \
    --student "$student" --strategy "$strategy" --leave-dataset-out --fold 1 --epochs 10 \
    --val-fraction 0 --patience 0 --threads 1 "$@" --out "$out/$name" >"$out/$name.log" 2>&1
  python3 - "$out/$name/model.json" "$student" "$strategy" "$*" >>"$table" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert all(s.startswith("bami2/") for s in m["split"]["test_subjects"]), "fold 1 must be BAMI-2"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4] or 'defaults'} | "
      f"{m['metrics']['test']['mae_bpm']:.2f} |")
PY
  tail -1 "$table"
}

echo "| student | strategy | flags | BAMI-2 pool MAE, last epoch |" >"$table"
echo "|---|---|---|---|" >>"$table"
for s in r3 m3; do
  run $s none
  run $s hard --alpha 1
  run $s hard --alpha 0.5
  for a in 0.5 0.9; do
    for t in 2 4; do run $s soft --alpha $a --temperature $t; done
  done
  run $s dkd --alpha 1 --beta 8 --temperature 4 --kd-warmup 1
  run $s dkd --alpha 1 --beta 2 --temperature 4 --kd-warmup 1
  run $s dkd --alpha 1 --beta 8 --temperature 2 --kd-warmup 1
  for l in 0.1 1 10; do run $s feature --lambda $l; done
done
echo "table: $table"
