#!/usr/bin/env bash
# The validation search behind each distillation strategy's default hyperparameters
# (docs/RESULTS.md, "Choosing the distillation defaults").
#
# Teacher: a fold-0 model of the default protocol (SPC 2015 train + BAMI-1, ppg+acc, 4 folds,
# split seed 1), e.g. the r8 teacher of fold 0 from the headline sweep. Students r3 and m3 train
# for 10 epochs on fold 0's training subjects minus the 20% validation subjects (the same ones
# the teacher held out, so it never saw them); only validation MAE is reported. Fold 0's test
# subjects are never looked at.
#
# usage: bench/kd_search.sh PPGKD_BINARY TEACHER_DIR OUT_DIR [DATA_ROOT]
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 teacher=$2 out=$3 data=${4:-../shared/data}
mkdir -p "$out"
table="$out/kd_search.md"

run() {  # STUDENT STRATEGY [flags...]
  local student=$1 strategy=$2
  shift 2
  local name="$student-$strategy${*:+-}$(echo "$*" | tr -d ' -')"
  [[ -f "$out/$name/model.json" ]] || "$ppgkd" distill --data "$data/ieee_spc2015,$data/bami1" \
    --cache "$out/cache" --teacher "$teacher" --student "$student" --strategy "$strategy" \
    --fold 0 --epochs 10 --threads 1 "$@" --out "$out/$name" >"$out/$name.log" 2>&1
  python3 - "$out/$name/model.json" "$student" "$strategy" "$*" >>"$table" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
v = [e["val_mae"] for e in m["history"]]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4] or 'defaults'} | "
      f"{min(v):.2f} | {sum(v[-3:]) / 3:.2f} |")
PY
  tail -1 "$table"
}

echo "| student | strategy | flags | best-epoch val MAE | mean of last 3 epochs |" >"$table"
echo "|---|---|---|---|---|" >>"$table"
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
