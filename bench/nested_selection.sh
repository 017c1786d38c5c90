#!/usr/bin/env bash
# Nested selection of the teacher's motion levers (docs/RESULTS.md, "Teachers that transfer"):
# for each fold f of the 4-fold CV (SPC 2015 train + BAMI-1, split seed 1; BAMI-2 train-only),
# every configuration trains on fold f's BAMI-1 training subjects + BAMI-2 and is scored on fold
# f's SPC 2015 *training* subjects (`--leave-dataset-out --inner-of f --fold 1`): a transfer to
# another device and motion, measured without any of fold f's test subjects. Fold f's CV model is
# the configuration that wins inside fold f (nested cross-validation); the recipe for a model
# without test subjects (the final teacher) is the configuration with the lowest inner mean.
#
# usage: bench/nested_selection.sh PPGKD_BINARY OUT_DIR [DATA_ROOT] [MODEL] [EPOCHS] [SEED]
#   CONFIGS="name:flags;..." (default: baseline, synthetic and both motion augmentations);
#   JOBS=2 runs two at a time; EXTRA="bidmc,..." adds those datasets of DATA_ROOT to every
#   configuration's training pool (train-only, like BAMI-2; never scored).
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n 2,14p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 out=$2 data=${3:-../shared/data} model=${4:-r6} epochs=${5:-20} seed=${6:-1}
jobs=${JOBS:-2}
pool="$data/ieee_spc2015,$data/bami1,$data/bami2" train_only=bami2
extra=${EXTRA:-}
for d in ${extra//,/ }; do pool+=",$data/$d" train_only+=",$d"; done
configs=${CONFIGS:-"baseline:;motion-synthetic:--motion-augment synthetic;motion-both:--motion-augment both"}
IFS=';' read -ra entries <<<"$configs"
mkdir -p "$out"
for f in 0 1 2 3; do
  for entry in "${entries[@]}"; do
    name=${entry%%:*} flags=${entry#*:} dir="$out/${entry%%:*}/fold$f"
    mkdir -p "$out/$name"
    [[ -f "$dir/model.json" ]] && continue
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
    # shellcheck disable=SC2086
    "$ppgkd" train --data "$pool" --cache "$out/cache" --model "$model" --train-only "$train_only" \
      --folds 4 --split-seed 1 --leave-dataset-out --inner-of "$f" --fold 1 --epochs "$epochs" \
      --seed "$seed" --threads 1 $flags --out "$dir" >"$dir.log" 2>&1 &
  done
done
wait
python3 - "$out" "${entries[@]}" <<'PY'
import json, sys
out, entries = sys.argv[1], sys.argv[2:]
names = [e.split(":")[0] for e in entries]
print("| config | " + " | ".join(f"fold {f}" for f in range(4)) + " | mean |")
print("|---|" + "---|" * 5)
scores = {}
for n in names:
    v = []
    for f in range(4):
        m = json.load(open(f"{out}/{n}/fold{f}/model.json"))
        assert all(s.startswith("spc2015/") for s in m["split"]["test_subjects"])
        v.append(m["metrics"]["test"]["mae_bpm"])
    scores[n] = v
    print(f"| {n} | " + " | ".join(f"{x:.2f}" for x in v) + f" | {sum(v) / 4:.2f} |")
print()
for f in range(4):
    best = min(names, key=lambda n: scores[n][f])
    print(f"fold {f}: best {best}")
print(f"lowest inner mean: {min(names, key=lambda n: sum(scores[n]))}")
PY
