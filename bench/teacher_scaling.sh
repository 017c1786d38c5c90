#!/usr/bin/env bash
# Teacher scaling with the final recipe (docs/RESULTS.md, "Teachers that transfer"): teachers of
# the ResNet ladder with the spectral branch and synthetic motion artefacts, scored on the BAMI-2
# selection pool and leave-dataset-out on SPC 2015 (bench/teacher_levers.sh), and in 4-fold CV
# on the SPC 2015 + BAMI-1 test subjects (bench/teacher_cv.sh) for the rungs in CV_RUNGS. Prints
# error against parameters with a power law E = A * N^-b fitted per column (log-log least
# squares, 95 % interval on b): b > 0 means bigger teachers are better.
#
# usage: bench/teacher_scaling.sh PPGKD_BINARY OUT_DIR [DATA_ROOT]
#   RUNGS="r5 r6 r7 r8 r9" (pool and leave-dataset-out), CV_RUNGS="r6 r7", SEEDS="1", JOBS=2,
#   CV_SEEDS="1" (the CV columns average over these seeds),
#   FOLDS="1 2" (1 = pool, 2 = leave-dataset-out), RECIPE="--motion-augment synthetic"
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 out=$2 data=${3:-../shared/data}
here=$(dirname "$0")
rungs=${RUNGS:-"r5 r6 r7 r8 r9"} cv_rungs=${CV_RUNGS:-"r6 r7"}
recipe=${RECIPE:-"--motion-augment synthetic"}
levers=""
for r in $rungs; do levers+="scale-$r:--model $r,spectral=16 $recipe;"; done
LEVERS=${levers%;} "$here/teacher_levers.sh" "$ppgkd" "$out" "$data" r6 20 "${SEEDS:-1}" >/dev/null
for r in $cv_rungs; do
  for seed in ${CV_SEEDS:-1}; do
    name=cv-$r
    [[ $seed == 1 ]] || name=cv-$r-s$seed
    "$here/teacher_cv.sh" "$ppgkd" "$out/$name" "$data" "$seed" -- --model "$r,spectral=16" $recipe \
      >"$out/$name.md"
  done
done
python3 "$here/teacher_scaling_table.py" "$out" $rungs
