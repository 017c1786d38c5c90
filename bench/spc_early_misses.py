#!/usr/bin/env python3
"""What the teacher gets wrong at the start of IEEE SPC 2015 recordings (docs/RESULTS.md, "Per
activity phase"): for every training recording, the windows starting in the first 32 s that the
fold's model misses by 15 BPM or more, with the ECG rate, the estimate, their ratio and the
accelerometer's strongest rate in 30-210 BPM (summed DFT power of the three axes over the 8 s
window, 1 BPM steps; a peak at the band's low edge means a still wrist).

usage: bench/spc_early_misses.py PPGKD SPC_TRAINING_DIR CV_DIR
  SPC_TRAINING_DIR: ../shared/data/ieee_spc2015/Training_data; CV_DIR holds fold-0..fold-3, each
  scored on its own test subjects (e.g. runs/cv-ss-ens3). Pure Python: reads MATLAB v5 files.
"""
import json
import math
import os
import struct
import subprocess
import sys
import zlib

from script_errors import check_run, run_main

FS, WINDOW, STEP = 125, 1000, 250  # SPC 2015: 125 Hz, 8 s windows, 2 s steps
FIRST_WINDOWS, MISS_BPM = 17, 15.0


def elements(buf):
    """(type, payload) of each MATLAB v5 data element in buf."""
    off = 0
    while off + 8 <= len(buf):
        kind, size = struct.unpack_from("<II", buf, off)
        if kind >> 16:  # small element: size and type share the first word
            yield kind & 0xFFFF, buf[off + 4:off + 4 + (kind >> 16)]
            off += 8
            continue
        yield kind, buf[off + 8:off + 8 + size]
        off += 8 + size + (-size % 8)


def read_mat(path):
    """name -> (dims, values in column-major order) for the numeric matrices of a v5 .mat."""
    formats = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 9: "d"}
    with open(path, "rb") as f:
        buf = f.read()[128:]
    out = {}
    try:
        for kind, data in elements(buf):
            if kind == 15:  # compressed
                kind, data = next(elements(zlib.decompress(data)))
            if kind != 14:  # not a matrix
                continue
            parts = list(elements(data))
            dims = struct.unpack(f"<{len(parts[1][1]) // 4}i", parts[1][1])
            fmt = formats[parts[3][0]]
            raw = parts[3][1]
            out[parts[2][1].decode()] = (dims, struct.unpack(f"<{len(raw) // struct.calcsize(fmt)}{fmt}", raw))
    except (struct.error, zlib.error, IndexError, KeyError, StopIteration, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a MATLAB v5 file this reader understands ({type(e).__name__}: {e})")
    return out


def variable(mat, name, path):
    if name not in mat:
        raise ValueError(f"{path}: no variable '{name}'")
    return mat[name]


def acc_peak_bpm(axes, start):
    best, best_bpm = -1.0, 0
    segs = []
    for a in axes:
        s = a[start:start + WINDOW]
        mean = sum(s) / len(s)
        segs.append([x - mean for x in s])
    for bpm in range(30, 211):
        w = 2 * math.pi * bpm / 60 / FS
        power = 0.0
        for s in segs:
            c = sum(x * math.cos(w * i) for i, x in enumerate(s))
            d = sum(x * math.sin(w * i) for i, x in enumerate(s))
            power += c * c + d * d
        if power > best:
            best, best_bpm = power, bpm
    return best_bpm


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ppgkd, data, cv = sys.argv[1:]
    fold_of = {}
    for f in range(4):
        path = os.path.join(cv, f"fold-{f}", "model.json")
        with open(path) as fh:
            try:
                subjects = json.load(fh)["split"]["test_subjects"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f"{path}: not a ppgkd model record with split.test_subjects ({e})")
        for s in subjects:
            fold_of[s] = f
    print("| recording | start s | ECG BPM | estimate | ratio | accelerometer peak BPM |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sorted(os.listdir(data)):
        if not name.endswith(".mat") or "BPM" in name:
            continue
        stem = name[:-4]
        subject = f"spc2015/train{int(stem.split('_')[1]):02d}"
        label_path, sig_path = os.path.join(data, f"{stem}_BPMtrace.mat"), os.path.join(data, name)
        hr = variable(read_mat(label_path), "BPM0", label_path)[1]
        dims, sig = variable(read_mat(sig_path), "sig", sig_path)
        if len(dims) != 2 or dims[0] < 6:
            raise ValueError(f"{sig_path}: 'sig' must have 6 rows (ECG, PPG 1-2, acc x, y, z), has {dims}")
        axes = [sig[row::dims[0]] for row in (3, 4, 5)]  # rows: ECG, PPG 1-2, acc x, y, z
        if subject not in fold_of:
            raise ValueError(f"{cv}: no fold-F/model.json holds the test subject {subject}")
        model = os.path.join(cv, f"fold-{fold_of[subject]}")
        run = subprocess.run([ppgkd, "predict", "--model", model, "--input", sig_path],
                             capture_output=True, text=True)
        check_run(run, f"{ppgkd} predict on {sig_path}")
        est = [float(line.split(",")[1]) for line in run.stdout.splitlines()[1:] if line]
        if len(est) < FIRST_WINDOWS or len(hr) < FIRST_WINDOWS:
            raise ValueError(f"{sig_path}: fewer than {FIRST_WINDOWS} windows")
        for w in range(FIRST_WINDOWS):
            if abs(est[w] - hr[w]) < MISS_BPM:
                continue
            print(f"| {stem} | {2 * w} | {hr[w]:.0f} | {est[w]:.0f} | {est[w] / hr[w]:.2f} | "
                  f"{acc_peak_bpm(axes, w * STEP)} |", flush=True)


if __name__ == "__main__":
    run_main("spc_early_misses", main)
