#!/usr/bin/python3
"""Benchmark A, Python side: supervised training throughput (windows/s) of a ppgkd model in
PyTorch, with ppgkd's training loop (AdamW, warm-up + cosine LR, label-smoothed CE, batch 256).

Timing matches ppgkd's `train_windows_per_second` (trainer.cpp): the clock runs from gathering a
batch to the end of optimizer.step() + loss.item(), summed over all steps of all epochs; model
construction, data creation and anything between epochs are outside it. There is no validation
(ppgkd runs with --val-fraction 0).

usage: /usr/bin/python3 train_throughput.py --model r3 --windows 3528 --epochs 1 --threads 2 \
           [--batch 256] [--expect-params N] [--json OUT]
Prints one JSON object (also written to --json).
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ppgkd_models  # noqa: E402
from train_loop import batches, lr_at, make_adamw, random_windows  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="ladder rung (r3) or spec string")
    ap.add_argument("--windows", type=int, required=True, help="training windows per epoch (N)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--expect-params", type=int, help="assert this parameter count (ppgkd models)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    net = ppgkd_models.build(a.model, expect_params=a.expect_params)
    opt = make_adamw(net)
    x_all, y_all = random_windows(a.windows, a.seed)

    steps_per_epoch = (a.windows + a.batch - 1) // a.batch
    total = steps_per_epoch * a.epochs
    step, seen, train_seconds, loss_sum = 0, 0, 0.0, 0.0
    net.train()
    for epoch in range(a.epochs):
        for rows in batches(a.windows, a.batch, epoch, a.seed):
            t0 = time.perf_counter()
            x, y = x_all[rows], y_all[rows]  # gather: a fresh (B, C, L) tensor, like gather_windows
            lr = lr_at(step, total, steps_per_epoch)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = F.cross_entropy(net(x), y, label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            step += 1
            seen += len(rows)
            train_seconds += time.perf_counter() - t0

    out = {"side": "python", "model": a.model, "spec": ppgkd_models.LADDER.get(a.model, a.model),
           "params": ppgkd_models.count_params(net), "windows": a.windows, "epochs": a.epochs,
           "batch": a.batch, "threads": torch.get_num_threads(), "steps": step,
           "train_seconds": train_seconds, "train_windows_per_second": seen / train_seconds,
           "mean_loss": loss_sum / step, "torch": torch.__version__}
    text = json.dumps(out)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
