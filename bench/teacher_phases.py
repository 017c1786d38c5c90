#!/usr/bin/env python3
"""Teacher error per activity phase (docs/RESULTS.md, "Teachers that transfer").

Runs `ppgkd validate --fold-test` on each model dir (each scored on its own held-out subjects:
the four CV folds, or one leave-dataset-out run) with the per-window, online and offline
decoders, and pools the per-segment results over the dirs: a segment's MAE is the mean absolute
error over all its windows (pooled), as the validation report's segment rows are. The protocol
segments are those of src/analysis/segments.h (the timing each dataset documents).

usage: bench/teacher_phases.py PPGKD DATA_ROOTS OUT_DIR MODEL_DIR [MODEL_DIR ...]
  DATA_ROOTS: comma-separated dataset roots, as `ppgkd validate --data` takes them.
  Prints a Markdown table; the validation reports stay in OUT_DIR/<n>-<decode>/.
"""
import json
import os
import subprocess
import sys

from script_errors import check_run, run_main

DECODES = ("window", "online", "offline")


def validate(ppgkd, data, cache, out, model, decode):
    if not os.path.exists(os.path.join(out, "summary.json")):
        run = subprocess.run([ppgkd, "validate", "--model", model, "--data", data, "--fold-test",
                              "--decode", decode, "--threads", "1", "--cache", cache, "--out", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        check_run(run, f"{ppgkd} validate --model {model}")
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    ppgkd, data, out, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    # segment -> decode -> [windows, summed absolute error]; segment -> subjects
    pooled, subjects, order = {}, {}, []
    for n, model in enumerate(models):
        for decode in DECODES:
            summary = validate(ppgkd, data, os.path.join(out, "cache"), os.path.join(out, f"{n}-{decode}"),
                               model, decode)
            for seg in summary["segments"]:
                g = seg["group"]
                if g not in pooled:
                    pooled[g], subjects[g] = {d: [0, 0.0] for d in DECODES}, set()
                    order.append(g)
                acc = pooled[g][decode]
                acc[0] += seg["windows"]
                acc[1] += seg["window_mae_bpm"] * seg["windows"]
                subjects[g].update(seg["subject_mae_bpm"].keys())
    print("| protocol / segment | subjects | windows | per window | online | offline |")
    print("|---|---:|---:|---:|---:|---:|")
    for g in sorted(order):
        w = pooled[g]["window"][0]
        cells = [f"{pooled[g][d][1] / pooled[g][d][0]:.2f}" for d in DECODES]
        print(f"| {g} | {len(subjects[g])} | {w} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    run_main("teacher_phases", main)
