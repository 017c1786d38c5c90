#!/usr/bin/env python3
"""Table of bench/teacher_levers.sh: per lever, mean ± SD over seeds of the subject-averaged MAE
on the selection pool (BAMI-2, fold 1) and leave-dataset-out on SPC 2015 (fold 2), per window,
with the online filter and offline (forward-backward). Extra decode flags for a row come after a
'|' in the lever's entry name, e.g. "baseline|acc:--acc-aware" (decode-only levers reuse the
models of the lever before the '|').

usage: teacher_levers_table.py PPGKD_BINARY OUT_DIR POOL "name:flags" ...
"""
import json
import os
import statistics
import subprocess
import sys


def evaluate(ppgkd, model, pool, cache, decode, extra):
    out = f"{model}/eval-{decode}{extra['tag']}.json"
    if not os.path.exists(out):
        subprocess.run([ppgkd, "eval", "--model", model, "--data", pool, "--cache", cache,
                        "--fold-test", "--decode", decode, "--threads", "1", "--out", out]
                       + extra["flags"], check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))["metrics"]["mae_bpm"]


def cell(values):
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    ppgkd, out, pool = sys.argv[1:4]
    print("| lever | seeds | BAMI-2 pool: window | online | offline "
          "| SPC 2015 leave-dataset-out: window | online | offline |")
    print("|---|---|---|---|---|---|---|---|")
    for entry in sys.argv[4:]:
        name, _, flags = entry.partition(":")
        models_of, _, tag = name.partition("|")
        extra = {"tag": f"-{tag}" if tag else "", "flags": flags.split() if tag else []}
        row = []
        seeds = 0
        for fold in (1, 2):
            dirs = sorted(d for d in os.listdir(f"{out}/{models_of}")
                          if d.startswith(f"fold{fold}-") and
                          os.path.exists(f"{out}/{models_of}/{d}/model.json"))
            seeds = max(seeds, len(dirs))
            for decode in ("window", "online", "offline"):
                row.append(cell([evaluate(ppgkd, f"{out}/{models_of}/{d}", pool,
                                          f"{out}/cache", decode, extra) for d in dirs]))
        print(f"| {name} | {seeds} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
