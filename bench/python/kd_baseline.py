#!/usr/bin/python3
"""Benchmark B, Python side: one student distillation run the way common KD code does it, with
the teacher's forward pass recomputed at every training step (no cached teacher outputs).

Loss (Hinton soft KD, as ppgkd's soft_kd_loss): (1 - a) * CE(student, y) + a * T^2 * KL(p_T || q_T)
with p_T, q_T the teacher's and student's softmax at temperature T, KL summed over classes and
averaged over the batch ("batchmean"); a = 0.9, T = 2 by default. The student's optimiser and
schedule are ppgkd's (AdamW, warm-up + cosine, batch 256), so the only difference from
`ppgkd distill --strategy soft` is where the teacher's logits come from.

The teacher has the architecture of the ppgkd teacher and random weights: its cost does not
depend on the values. It runs in eval mode (BN with running statistics) under torch.no_grad().

usage: /usr/bin/python3 kd_baseline.py --teacher r7 --student r3 --windows 3528 --epochs 3 \
           [--threads 1] [--alpha 0.9] [--temperature 2] [--expect-teacher-params N] \
           [--expect-student-params N] [--json OUT]
Prints one JSON object (also written to --json). The driver times the whole process from
outside; `loop_seconds` here is the training loop alone.
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


def soft_kd_loss(student_logits, teacher_logits, y, alpha, t):
    """(B, K), (B, K), (B) -> (): (1-a)·CE + a·T²·KL(teacher || student), batchmean."""
    kl = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                  reduction="batchmean", log_target=True)
    return (1 - alpha) * F.cross_entropy(student_logits, y) + alpha * t * t * kl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teacher", required=True, help="ladder rung or spec of the teacher")
    ap.add_argument("--student", required=True, help="ladder rung or spec of the student")
    ap.add_argument("--windows", type=int, required=True, help="training windows per epoch (N)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--expect-teacher-params", type=int)
    ap.add_argument("--expect-student-params", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    teacher = ppgkd_models.build(a.teacher, expect_params=a.expect_teacher_params).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = ppgkd_models.build(a.student, expect_params=a.expect_student_params)
    opt = make_adamw(student)
    x_all, y_all = random_windows(a.windows, a.seed)

    steps_per_epoch = (a.windows + a.batch - 1) // a.batch
    total = steps_per_epoch * a.epochs
    step, teacher_seconds, loss_sum = 0, 0.0, 0.0
    t_loop = time.perf_counter()
    student.train()
    for epoch in range(a.epochs):
        for rows in batches(a.windows, a.batch, epoch, a.seed):
            x, y = x_all[rows], y_all[rows]
            t0 = time.perf_counter()
            with torch.no_grad():
                t_logits = teacher(x)  # the teacher again, every step of every epoch
            teacher_seconds += time.perf_counter() - t0
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, steps_per_epoch)
            loss = soft_kd_loss(student(x), t_logits, y, a.alpha, a.temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            step += 1
    loop_seconds = time.perf_counter() - t_loop

    out = {"side": "python", "teacher": a.teacher, "student": a.student,
           "teacher_params": ppgkd_models.count_params(teacher),
           "student_params": ppgkd_models.count_params(student), "windows": a.windows,
           "epochs": a.epochs, "batch": a.batch, "threads": torch.get_num_threads(),
           "alpha": a.alpha, "temperature": a.temperature, "steps": step,
           "loop_seconds": loop_seconds, "teacher_forward_seconds": teacher_seconds,
           "mean_loss": loss_sum / step, "torch": torch.__version__}
    text = json.dumps(out)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
