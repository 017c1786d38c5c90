#!/usr/bin/env python3
"""The headline-study summary of docs/RESULTS.md from a sweep report's CSVs: per family and
student size, scratch MAE and each strategy's MAE with the largest teacher, and the best of them;
each teacher's mean MAE per family and strategy (the effect of teacher size); the fitted
saturating power law of every curve; and the sweep's wall time from its store.

usage: bench/headline_summary.py SWEEP_DIR > summary.md   (after `ppgkd report --sweep SWEEP_DIR`)
"""
import csv
import sqlite3
import sys
from collections import defaultdict


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sweep = sys.argv[1]
    rows = list(csv.DictReader(open(f"{sweep}/report/students.csv")))
    fits = list(csv.DictReader(open(f"{sweep}/report/fits.csv")))
    strategies = ["none", "hard", "soft", "dkd", "feature"]

    effect = list(csv.DictReader(open(f"{sweep}/report/teacher_effect.csv")))
    teacher_params = {r["teacher"]: int(r["teacher_params"]) for r in effect}
    largest = max(teacher_params, key=teacher_params.get)

    # cell[(family, model)][strategy] = MAE (scratch, or distilled from the largest teacher)
    cells, params = defaultdict(dict), {}
    by_teacher = defaultdict(list)  # (family, strategy, teacher) -> MAEs over students
    for r in rows:
        key, mae = (r["family"], r["model"]), float(r["mae_bpm"])
        params[key] = int(r["params"])
        if r["strategy"] == "none" or r["teacher"] == largest:
            cells[key][r["strategy"]] = mae
        if r["strategy"] != "none":
            by_teacher[(r["family"], r["strategy"], r["teacher"])].append(mae)
    print(f"Students distilled from the largest teacher, {largest} "
          f"({teacher_params[largest]:,} params), against scratch (MAE in BPM, 4-fold CV):")
    print()
    print("| family | student | params | scratch | hard | soft | dkd | feature | best | gain over scratch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(cells, key=lambda k: (k[0], params[k])):
        c = cells[key]
        best = min((s for s in strategies if s in c), key=lambda s: c[s])
        out = [f"{c[s]:.2f}" if s in c else "-" for s in strategies]
        print(f"| {key[0]} | {key[1]} | {params[key]:,} | " + " | ".join(out) +
              f" | {best} | {c['none'] - c[best]:+.2f} |")

    print()
    print("Effect of teacher size: mean student MAE over the family's six sizes.")
    print()
    teachers = sorted(teacher_params, key=teacher_params.get)
    print("| family | strategy | " + " | ".join(f"teacher {t} ({teacher_params[t]:,})" for t in teachers) + " |")
    print("|---|---|" + "---|" * len(teachers))
    for fam in sorted({k[0] for k in by_teacher}):
        for s in strategies[1:]:
            vals = [by_teacher.get((fam, s, t)) for t in teachers]
            print(f"| {fam} | {s} | " + " | ".join(
                f"{sum(v) / len(v):.2f}" if v else "-" for v in vals) + " |")

    print()
    print("Saturating power law `MAE = a·N^(-b) + c` per curve (95% bootstrap intervals over "
          "subjects); extrapolation = refit without the largest student, predicted − observed "
          "MAE at that size.")
    print()
    print("| family | strategy | teacher | a | b [CI] | c [CI] | R² | extrapolation error (BPM) |")
    print("|---|---|---|---|---|---|---|---|")
    for f in fits:
        if f["law"] != "power":
            continue
        err = f"{float(f['extrap_err']):+.2f}" if f["extrap_err"] else "n/a"
        print(f"| {f['family']} | {f['strategy']} | {f['teacher'] or '-'} | {float(f['a']):.4g} | "
              f"{float(f['b']):.3f} [{float(f['b_lo']):.3f}, {float(f['b_hi']):.3f}] | "
              f"{float(f['c']):.2f} [{float(f['c_lo']):.2f}, {float(f['c_hi']):.2f}] | "
              f"{float(f['r2']):.3f} | {err} |")

    db = sqlite3.connect(f"{sweep}/sweep.db")
    plan = db.execute("SELECT value FROM meta WHERE name = 'plan_hash'").fetchone()[0]
    t0, t1, busy, n = db.execute(
        "SELECT min(started_at), max(finished_at), sum(wall_s), count(*) FROM runs WHERE "
        "plan_hash = ? AND status = 'done'", (plan,)).fetchone()
    by_kind = db.execute("SELECT kind, sum(wall_s) FROM runs WHERE plan_hash = ? AND status = "
                         "'done' GROUP BY kind", (plan,)).fetchall()
    print()
    print(f"{n} runs; first start to last finish {(t1 - t0) / 60:.0f} min wall; run time summed "
          f"over runs {busy / 3600:.2f} h (" +
          ", ".join(f"{k}s {s / 3600:.2f} h" for k, s in by_kind) + ").")


if __name__ == "__main__":
    main()
