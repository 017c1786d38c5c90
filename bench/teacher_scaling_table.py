#!/usr/bin/env python3
"""Teacher scaling table of bench/teacher_scaling.sh: per rung, parameters, BAMI-2 pool and SPC 2015
leave-dataset-out MAE (from the levers table, levers.md) and the 4-fold CV mean (cv-<rung>.md when
present, averaged with the further seeds' cv-<rung>-s<seed>.md; the CV seeds column counts them),
then a power law E = A * N^-b fitted to each column by least squares on log E against log N, with
a 95 % t interval on b (n - 2 degrees of freedom).

usage: teacher_scaling_table.py OUT_DIR RUNG...
"""
import json
import math
import os
import sys

# Two-sided 97.5 % quantiles of Student's t for 1..10 degrees of freedom.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def power_law(sizes, errors):
    """Slope b and its 95 % half-width of log E = log A - b log N; None below three points."""
    n = len(sizes)
    if n < 3:
        return None
    x = [math.log(s) for s in sizes]
    y = [math.log(e) for e in errors]
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx
    resid = [b - my - slope * (a - mx) for a, b in zip(x, y)]
    se = math.sqrt(sum(r * r for r in resid) / (n - 2) / sxx)
    return -slope, T975[min(n - 2, len(T975)) - 1] * se


def first_number(cell):
    return float(cell.split("±")[0])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, rungs = sys.argv[1], sys.argv[2:]
    levers = {}
    for line in open(f"{out}/levers.md"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("scale-"):
            levers[cells[0][len("scale-"):]] = cells[2:8]
    columns = ["pool window", "pool online", "pool offline", "LDO window", "LDO online",
               "LDO offline", "CV window", "CV online", "CV offline"]
    rows = []
    for r in rungs:
        trained = sorted(d for d in os.listdir(f"{out}/scale-{r}")
                         if os.path.exists(f"{out}/scale-{r}/{d}/model.json"))
        model = json.load(open(f"{out}/scale-{r}/{trained[0]}/model.json"))
        values = [first_number(c) if c not in ("–", "") else None for c in levers.get(r, [])]
        values += [None] * (6 - len(values))
        seed_tables = [f"{out}/{f}" for f in sorted(os.listdir(out))
                       if f == f"cv-{r}.md" or (f.startswith(f"cv-{r}-s") and f.endswith(".md"))]
        sums, counts = [0.0] * 3, [0] * 3
        for table in seed_tables:
            for line in open(table):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if cells[0] in ("window", "online", "offline"):
                    i = ("window", "online", "offline").index(cells[0])
                    sums[i] += first_number(cells[5])
                    counts[i] += 1
        cv = [sums[i] / counts[i] if counts[i] else None for i in range(3)]
        rows.append((r, model["params"], values + cv, counts[0]))
    print("| rung | params | " + " | ".join(columns) + " | CV seeds |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    for r, params, values, cv_seeds in rows:
        print(f"| {r} | {params:,} | " +
              " | ".join("–" if v is None else f"{v:.2f}" for v in values) + f" | {cv_seeds} |")
    print("\nPower law E = A * N^-b per column (b > 0: bigger is better):\n")
    for i, name in enumerate(columns):
        pts = [(p, v[i]) for _, p, v, _ in rows if v[i] is not None]
        fit = power_law([p for p, _ in pts], [e for _, e in pts])
        if fit:
            print(f"- {name}: b = {fit[0]:+.3f} ± {fit[1]:.3f} over {len(pts)} sizes")


if __name__ == "__main__":
    main()
