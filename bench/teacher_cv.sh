#!/usr/bin/env bash
# 4-fold cross-validation of one teacher configuration on the comparable test subjects of
# docs/RESULTS.md (IEEE SPC 2015 train + BAMI-1, split seed 1), with BAMI-2 in every fold's
# training pool (--train-only bami2), per window, with the online filter and offline, per dataset.
# Hyperparameters come from the BAMI-2 selection pool; no fold's test subject chose anything.
#
# usage: bench/teacher_cv.sh PPGKD_BINARY OUT_DIR [DATA_ROOT] [SEED] -- TRAIN_FLAGS...
#   e.g. bench/teacher_cv.sh build/src/cli/ppgkd runs/cv-final ../shared/data 1 -- \
#          --model r6,spectral=16 --motion-augment transfer
#   JOBS=2 trains two folds at a time; EVAL_FLAGS are added to every eval (e.g. --acc-aware).
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 out=$2
shift 2
data=../shared/data seed=1
[[ $# -gt 0 && $1 != -- ]] && { data=$1; shift; }
[[ $# -gt 0 && $1 != -- ]] && { seed=$1; shift; }
[[ $# -gt 0 && $1 == -- ]] && shift
flags=("$@")
jobs=${JOBS:-2}
pool="$data/ieee_spc2015,$data/bami1,$data/bami2"
mkdir -p "$out"
for f in 0 1 2 3; do
  [[ -f "$out/fold-$f/model.json" ]] && continue
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
  "$ppgkd" train --data "$pool" --cache "$out/cache" --train-only bami2 --folds 4 --split-seed 1 \
    --fold "$f" --epochs 20 --seed "$seed" --threads 1 "${flags[@]}" --out "$out/fold-$f" \
    >"$out/fold-$f.log" 2>&1 &
done
wait
# shellcheck disable=SC2086
python3 - "$ppgkd" "$out" "$pool" ${EVAL_FLAGS:-} <<'PY'
import json, statistics, subprocess, sys
ppgkd, out, pool, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = {}
for decode in ("window", "online", "offline"):
    per_fold, per_subject = [], {}
    for f in range(4):
        r = subprocess.run([ppgkd, "eval", "--model", f"{out}/fold-{f}", "--data", pool, "--cache",
                            f"{out}/cache", "--fold-test", "--decode", decode, "--threads", "1"]
                           + extra, check=True, capture_output=True, text=True)
        m = json.loads(r.stdout)["metrics"]
        per_fold.append(m["mae_bpm"])
        per_subject.update(m["subject_mae_bpm"])
    by_ds = {}
    for s, v in per_subject.items():
        by_ds.setdefault(s.split("/")[0], []).append(v)
    rows[decode] = (per_fold, {d: statistics.mean(v) for d, v in by_ds.items()})
print("| decode | fold 0 | fold 1 | fold 2 | fold 3 | mean ± sd over folds | SPC 2015 (12) | BAMI-1 (24) |")
print("|---|---|---|---|---|---|---|---|")
for decode, (folds, ds) in rows.items():
    print(f"| {decode} | " + " | ".join(f"{v:.2f}" for v in folds) +
          f" | {statistics.mean(folds):.2f} ± {statistics.stdev(folds):.2f} | "
          f"{ds.get('spc2015', float('nan')):.2f} | {ds.get('bami1', float('nan')):.2f} |")
PY
