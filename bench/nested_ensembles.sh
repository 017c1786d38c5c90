#!/usr/bin/env bash
# Nested scores of seed and configuration ensembles (docs/RESULTS.md, "Teachers that transfer"):
# the inner models of bench/nested_selection.sh (one dir per configuration and seed, holding
# fold0..fold3) are averaged by `ppgkd ensemble` fold by fold and scored on each fold's inner
# validation subjects (fold f's SPC 2015 training subjects, `eval --fold-test`), per window and
# with the online filter. No test subject of any fold is seen.
#
# usage: bench/nested_ensembles.sh PPGKD_BINARY DATA_ROOT OUT_DIR NAME=ROOT[,ROOT...] ...
#   e.g. bench/nested_ensembles.sh build/src/cli/ppgkd ../shared/data runs/nested-ens \
#          st-2seeds=runs/nested/spectral-transfer,runs/nested-s2/spectral-transfer
#   A NAME with one ROOT scores that configuration alone. EVAL_FLAGS are added to every eval
#   (e.g. "--acc-aware" to score accelerometer-aware decoding).
set -euo pipefail
if [[ $# -lt 4 ]]; then
  sed -n 2,12p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$1 data=$2 out=$3
shift 3
pool="$data/ieee_spc2015,$data/bami1,$data/bami2"
mkdir -p "$out"
EVAL_FLAGS=${EVAL_FLAGS:-} python3 - "$ppgkd" "$pool" "$out" "$@" <<'PY'
import json, os, statistics, subprocess, sys
ppgkd, pool, out, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
extra = os.environ["EVAL_FLAGS"].split()

def score(model, decode):
    r = subprocess.run([ppgkd, "eval", "--model", model, "--data", pool, "--cache", f"{out}/cache",
                        "--fold-test", "--decode", decode, "--threads", "1"] + extra,
                       check=True, capture_output=True, text=True)
    m = json.loads(r.stdout)["metrics"]
    return m["mae_bpm"]

print("| model | members | inner per window: fold 0 | fold 1 | fold 2 | fold 3 | mean | online mean |")
print("|---|---|---|---|---|---|---|---|")
means = {}
for spec in specs:
    name, roots = spec.split("=", 1)
    roots = roots.split(",")
    window, online = [], []
    for f in range(4):
        members = [f"{r}/fold{f}" for r in roots]
        split = {json.dumps(json.load(open(f"{m}/model.json"))["split"]["test_subjects"])
                 for m in members}
        assert len(split) == 1, f"{name} fold {f}: members have different inner subjects"
        model = members[0]
        if len(members) > 1:
            model = f"{out}/{name}/fold{f}"
            if not os.path.exists(f"{model}/model.json"):
                subprocess.run([ppgkd, "ensemble", "--members", ",".join(members), "--out", model],
                               check=True, capture_output=True)
        window.append(score(model, "window"))
        online.append(score(model, "online"))
    means[name] = statistics.mean(window)
    print(f"| {name} | {len(roots)} | " + " | ".join(f"{v:.2f}" for v in window) +
          f" | {means[name]:.2f} | {statistics.mean(online):.2f} |", flush=True)
print()
print(f"lowest inner mean per window: {min(means, key=means.get)}")
PY
