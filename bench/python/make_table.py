#!/usr/bin/python3
"""Markdown tables from bench/compare_python.sh's raw.tsv (medians over repetitions).

usage: make_table.py RAW_TSV FACTS_TXT > results.md
raw.tsv columns: bench config rep side value extra load1_before load1_after, where value is
windows/s (A) or wall seconds of one run (B) and extra is "key=value;..." details.
"""

import csv
import statistics
import sys


def extra(row):
    return dict(kv.split("=", 1) for kv in row["extra"].split(";") if "=" in kv)


def paired(cpp, py, higher_is_better):
    """Median over repetitions of the ratio within each C++/Python pair (run back to back)."""
    c = {r["rep"]: float(r["value"]) for r in cpp}
    p = {r["rep"]: float(r["value"]) for r in py}
    ratios = [c[k] / p[k] if higher_is_better else p[k] / c[k] for k in c if k in p]
    return statistics.median(ratios)


def fmt_runs(values, digits):
    return ", ".join(f"{v:.{digits}f}" for v in values)


def main():
    raw, facts = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(raw), delimiter="\t"))
    by = {}
    for r in rows:
        by.setdefault((r["bench"], r["config"], r["side"]), []).append(r)
    loads = [float(r[k]) for r in rows for k in ("load1_before", "load1_after")]

    print("# ppgkd (libtorch C++) vs Python PyTorch\n")
    print("```")
    print(open(facts).read().rstrip())
    if loads:
        print(f"load1 sampled before/after each run: min {min(loads):.2f}, "
              f"median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    print("```\n")

    configs = list(dict.fromkeys(r["config"] for r in rows if r["bench"] == "A"))
    if configs:
        print("## A. Training throughput (windows/s, higher is better)\n")
        print("| model | params | N windows | epochs | threads | ppgkd C++ (median) | "
              "PyTorch Python (median) | C++ / Python | paired ratio (median) | ppgkd runs | "
              "Python runs |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for c in configs:
            cpp, py = by.get(("A", c, "cpp"), []), by.get(("A", c, "python"), [])
            if not cpp or not py:
                continue
            e = extra(cpp[0])
            assert extra(py[0])["params"] == e["params"], f"{c}: parameter counts differ"
            vc, vp = [float(r["value"]) for r in cpp], [float(r["value"]) for r in py]
            mc, mp = statistics.median(vc), statistics.median(vp)
            print(f"| {c} | {int(e['params']):,} | {e['N']} | {e['epochs']} | {e['threads']} | "
                  f"{mc:.0f} | {mp:.0f} | **{mc / mp:.2f}x** | {paired(cpp, py, True):.2f}x | "
                  f"{fmt_runs(vc, 0)} | "
                  f"{fmt_runs(vp, 0)} |")
        print()

    configs = list(dict.fromkeys(r["config"] for r in rows if r["bench"] == "B"))
    if configs:
        print("## B. Soft-KD student runs per hour (one run = one student, all epochs; "
              "higher is better)\n")
        print("| teacher > student | N windows | epochs | threads | ppgkd distill s/run (median) | "
              "ppgkd runs/h | Python KD s/run (median) | Python runs/h | ppgkd / Python | "
              "paired ratio (median) | "
              "ppgkd runs (s) | Python runs (s) | ppgkd teacher pass (s) | "
              "Python teacher forwards (s) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
        for c in configs:
            cpp, py = by.get(("B", c, "cpp"), []), by.get(("B", c, "python"), [])
            if not cpp or not py:
                continue
            e = extra(cpp[0])
            vc, vp = [float(r["value"]) for r in cpp], [float(r["value"]) for r in py]
            mc, mp = statistics.median(vc), statistics.median(vp)
            tp = statistics.median(float(extra(r)["teacher_pass_s"]) for r in cpp)
            tf = statistics.median(float(extra(r)["teacher_fwd_s"]) for r in py)
            print(f"| {c} | {e['N']} | {e['epochs']} | {e['threads']} | {mc:.1f} | "
                  f"{3600 / mc:.0f} | {mp:.1f} | {3600 / mp:.0f} | **{mp / mc:.2f}x** | "
                  f"{paired(cpp, py, False):.2f}x | "
                  f"{fmt_runs(vc, 1)} | {fmt_runs(vp, 1)} | {tp:.1f} | {tf:.1f} |")
        print()


if __name__ == "__main__":
    main()
