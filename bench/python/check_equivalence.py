#!/usr/bin/python3
"""Checks that bench/python/ppgkd_models.py computes what ppgkd's C++ network computes, not just
that the parameter counts agree: ppgkd's weights (model.pt) are copied into the Python model,
which is run in eval mode on ppgkd's cached windows and compared with the logits ppgkd cached
for the same rows (a teacher-outputs file written by `ppgkd distill`).

usage: /usr/bin/python3 check_equivalence.py MODEL_DIR WINDOWS_CACHE TEACHER_OUTPUTS [--rows 512]
  MODEL_DIR        a ppgkd model directory (model.json + model.pt), the teacher of the distill run
  WINDOWS_CACHE    windows-*.ppgcache from the same --cache directory
  TEACHER_OUTPUTS  teacher-outputs-*.bin from that run (cache miss, logits only)
Exits 1 when the largest absolute logit difference exceeds 1e-3.

File layouts: src/data/cache.cpp (serialise_windows) and src/train/teacher_cache.cpp
(serialise_teacher_outputs); both have a 44-byte header (magic, version, key, length, checksum).
"""

import argparse
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ppgkd_models  # noqa: E402

HEADER = 8 + 4 + 16 + 8 + 8


def read_windows(path):
    """(N, C, L) float32 windows of a ppgkd window cache."""
    b = open(path, "rb").read()
    assert b[:8] == b"PPGKDWIN", f"{path}: not a window cache"
    c, l, n = struct.unpack_from("<iiQ", b, HEADER)
    x = np.frombuffer(b, np.float32, n * c * l, HEADER + 16)
    return torch.from_numpy(x.reshape(n, c, l).copy())


def read_teacher_outputs(path):
    """(rows (n), logits (n, K)) of a teacher-outputs cache."""
    b = open(path, "rb").read()
    assert b[:8] == b"PPGKDTEA", f"{path}: not a teacher-outputs cache"
    at = HEADER
    (n,) = struct.unpack_from("<Q", b, at)
    rows = np.frombuffer(b, np.uint64, n, at + 8).astype(np.int64)
    at += 8 + 8 * n
    (k,) = struct.unpack_from("<I", b, at)
    logits = np.frombuffer(b, np.float32, n * k, at + 4).reshape(n, k)
    return torch.from_numpy(rows.copy()), torch.from_numpy(logits.copy())


def load_cpp_weights(net, model_pt):
    """C++ names s{stage}b{block}.* become blocks.{flat index}.* (blocks in stage-major order)."""
    cpp = torch.jit.load(model_pt)
    tensors = dict(cpp.named_parameters())
    tensors.update(dict(cpp.named_buffers()))
    order = sorted({tuple(map(int, m.groups())) for m in
                    (re.match(r"s(\d+)b(\d+)\.", k) for k in tensors) if m})
    flat = {f"s{s}b{b}.": f"blocks.{i}." for i, (s, b) in enumerate(order)}
    renamed = {}
    for k, v in tensors.items():
        m = re.match(r"s\d+b\d+\.", k)
        renamed[flat[m.group(0)] + k[m.end():] if m else k] = v
    missing = net.load_state_dict(renamed, strict=True)
    return len(renamed), missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("windows_cache")
    ap.add_argument("teacher_outputs")
    ap.add_argument("--rows", type=int, default=512, help="compare this many rows")
    a = ap.parse_args()

    info = json.load(open(os.path.join(a.model_dir, "model.json")))
    net = ppgkd_models.build(info["spec"], expect_params=info["params"])
    n_tensors, _ = load_cpp_weights(net, os.path.join(a.model_dir, "model.pt"))
    net.eval()
    x = read_windows(a.windows_cache)
    rows, want = read_teacher_outputs(a.teacher_outputs)
    rows, want = rows[:a.rows], want[:a.rows]
    with torch.no_grad():
        got = net(x[rows])
    diff = (got - want).abs().max().item()
    agree = (got.argmax(1) == want.argmax(1)).float().mean().item()
    print(f"{info['spec']}: {info['params']} parameters, {n_tensors} tensors loaded; "
          f"{len(rows)} rows: max |logit diff| {diff:.2e}, argmax agreement {agree:.4f}")
    sys.exit(0 if diff <= 1e-3 else 1)


if __name__ == "__main__":
    main()
