#!/usr/bin/env python3
"""Large per-window misses of a teacher by kind (docs/RESULTS.md, "Two remedies for the octave
errors at rest"): from the per-window validation reports that bench/teacher_phases.py leaves in
OUT_DIR/<n>-window/, every window whose estimate misses the ECG rate by 15 BPM or more, counted
as about twice the rate (ratio 1.8-2.2), about half of it (0.45-0.55), other over-estimates and
other under-estimates. Each window's estimate and reference come from its Bland-Altman row
(mean m, difference d = estimate - reference): estimate m + d/2, reference m - d/2.

usage: bench/miss_ratios.py PHASES_OUT_DIR [PHASES_OUT_DIR ...]
"""
import glob
import os
import sys

from script_errors import run_main

MISS_BPM = 15.0


def windows(out_dir):
    paths = sorted(glob.glob(os.path.join(out_dir, "*-window", "plots", "bland_altman.dat")))
    if not paths:
        raise ValueError(f"{out_dir}: no <n>-window/plots/bland_altman.dat (run bench/teacher_phases.py first)")
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if line.startswith("#") or not line.strip():
                    continue
                try:
                    m, d = map(float, line.split())
                except ValueError:
                    raise ValueError(f"{path}:{number}: expected two numbers, got {line.strip()!r}")
                yield m + d / 2, m - d / 2


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| reports | windows | misses >= 15 BPM | ~2x | ~0.5x | other over | other under |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for out_dir in sys.argv[1:]:
        total, kinds = 0, [0, 0, 0, 0]
        for est, ref in windows(out_dir):
            total += 1
            if abs(est - ref) < MISS_BPM:
                continue
            q = est / ref
            kinds[0 if 1.8 <= q <= 2.2 else 1 if 0.45 <= q <= 0.55 else 2 if q > 1 else 3] += 1
        print(f"| {out_dir} | {total} | {sum(kinds)} | " + " | ".join(map(str, kinds)) + " |")


if __name__ == "__main__":
    run_main("miss_ratios", main)
