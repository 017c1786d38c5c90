#!/usr/bin/env python3
"""The teacher table of docs/RESULTS.md from a finished sweep: every teacher's test MAE per fold
and per dataset, its training wall time, and the spectral baseline on the same test subjects.

usage: bench/teacher_table.py PPGKD_BINARY SWEEP_DIR DATA_SPEC > table.md

DATA_SPEC is the plan's data (e.g. ../shared/data/ieee_spc2015,../shared/data/bami1). The
spectral baseline is run with `ppgkd eval --model spectral --subjects ...` on each fold's test
subjects, read from the teachers' model.json.
"""
import json
import sqlite3
import statistics
import subprocess
import sys


def subject_means(per_subject):
    """Mean subject MAE per dataset ("spc2015/train01" -> dataset "spc2015")."""
    by_ds = {}
    for subject, mae in per_subject.items():
        by_ds.setdefault(subject.split("/")[0], []).append(mae)
    return {ds: statistics.mean(v) for ds, v in by_ds.items()}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ppgkd, sweep, data = sys.argv[1:]
    db = sqlite3.connect(f"{sweep}/sweep.db")
    plan = db.execute("SELECT value FROM meta WHERE name = 'plan_hash'").fetchone()[0]
    rows = db.execute(
        "SELECT model, fold, wall_s, model_json FROM runs WHERE kind = 'teacher' AND status = "
        "'done' AND plan_hash = ? ORDER BY params, fold", (plan,)).fetchall()
    teachers, tests = {}, {}
    for model, fold, wall, mj in rows:
        m = json.loads(mj)
        t = m["metrics"]["test"]
        teachers.setdefault(model, {"params": m["params"], "folds": {}})["folds"][fold] = (
            t["mae_bpm"], t["subject_mae_bpm"], wall)
        tests[fold] = m["split"]["test_subjects"]
    spectral = {}
    for fold, subjects in sorted(tests.items()):
        out = subprocess.run([ppgkd, "eval", "--model", "spectral", "--data", data, "--subjects",
                              ",".join(subjects)], check=True, capture_output=True, text=True)
        t = json.loads(out.stdout)["metrics"]
        spectral[fold] = (t["mae_bpm"], t["subject_mae_bpm"], None)
    entries = [(f"{k} ({v['params']:,} params)", v["folds"]) for k, v in teachers.items()]
    entries.append(("spectral baseline (no training)", spectral))
    folds = sorted(tests)
    print("| model | " + " | ".join(f"fold {f}: all / SPC / BAMI" for f in folds) +
          " | mean ± std over folds | SPC 2015 (12 subj) | BAMI-1 (24 subj) | wall, 4 folds |")
    print("|---" * (len(folds) + 5) + "|")
    for name, per_fold in entries:
        cells, all_subjects, wall = [], {}, 0.0
        for f in folds:
            mae, subj, w = per_fold[f]
            ds = subject_means(subj)
            cells.append(f"{mae:.2f} / {ds.get('spc2015', float('nan')):.2f} / "
                         f"{ds.get('bami1', float('nan')):.2f}")
            all_subjects.update(subj)
            wall += w or 0.0
        maes = [per_fold[f][0] for f in folds]
        ds = subject_means(all_subjects)
        print(f"| {name} | " + " | ".join(cells) +
              f" | {statistics.mean(maes):.2f} ± {statistics.stdev(maes):.2f} | "
              f"{ds['spc2015']:.2f} | {ds['bami1']:.2f} | "
              f"{f'{wall / 60:.1f} min' if wall else '-'} |")


if __name__ == "__main__":
    main()
