#!/usr/bin/env bash
# The final teacher (docs/RESULTS.md, "Final teacher"): the recipe chosen by nested selection
# (bench/nested_selection.sh; the spectral branch from the BAMI-2 pool, bench/teacher_levers.sh)
# trained on every shared recording with wrist PPG, accelerometer and ECG labels: IEEE SPC 2015
# train, BAMI-1 and BAMI-2.
#   - ResNet1D r6 with the spectral branch (r6,spectral=16), ppg+acc, 20 epochs, AdamW lr 5e-3,
#     label smoothing 0.1, synthetic motion-artefact augmentation (--motion-augment synthetic);
#   - three seeds, averaged as a seed ensemble (`ppgkd ensemble`: the mean posterior).
# Decode with `--decode online` (or offline); the transition scale is recorded.
#
# usage: bench/final-teacher.sh OUT_DIR
#   writes the ensemble model dir to OUT_DIR and its members to OUT_DIR/members/seed-N.
#   PPGKD_DATA (default ../shared/data), PPGKD (default build/src/cli/ppgkd; built when absent),
#   SEEDS (default "1 2 3"), THREADS (default 2).
set -euo pipefail
if [[ $# -ne 1 ]]; then
  sed -n 2,14p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${PPGKD_DATA:-$repo/../shared/data}
ppgkd=${PPGKD:-$repo/build/src/cli/ppgkd}
seeds=${SEEDS:-"1 2 3"}
threads=${THREADS:-2}
[[ -x $ppgkd ]] || make -C "$repo" build
for d in ieee_spc2015 bami1 bami2; do
  [[ -d $data/$d ]] || { echo "final-teacher: $data/$d not found (set PPGKD_DATA)" >&2; exit 1; }
done
roots="$data/ieee_spc2015,$data/bami1,$data/bami2"
mkdir -p "$out/members"
start=$(date +%s)
members=()
for seed in $seeds; do
  dir="$out/members/seed-$seed"
  # --resume continues an interrupted member; a finished one is kept as it is.
  [[ -f $dir/model.json ]] || "$ppgkd" train --data "$roots" --cache "$out/cache" \
    --model r6,spectral=16 --motion-augment synthetic --folds 1 --fold 0 --epochs 20 \
    --seed "$seed" --threads "$threads" --resume --out "$dir"
  members+=("$dir")
done
tmp="$out/ensemble.tmp"
rm -rf "$tmp"
"$ppgkd" ensemble --members "$(IFS=,; echo "${members[*]}")" --out "$tmp"
# The model dir's files move into OUT_DIR itself, beside members/ and cache/.
for f in "$tmp"/*; do mv -f "$f" "$out/"; done
rmdir "$tmp"
echo "final teacher: $out ($(( ($(date +%s) - start) / 60 )) min)"
