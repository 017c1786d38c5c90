"""The pieces of ppgkd's training loop (src/train/trainer.cpp) in plain PyTorch, for benchmarks.

- AdamW with two parameter groups: weight decay on tensors with dim > 1, none on biases and BN.
- Linear warm-up (from lr/warm, not 0) then cosine decay to lr * min_lr_ratio, set every step.
- Every epoch visits the rows in a fresh permutation, in batches of `batch` (the last one short).
- Each step gathers its windows into a new (B, C, L) tensor, as gather_windows() does, and reads
  the loss back with .item(), as the C++ loop does for its running mean.

Data are random: throughput does not depend on the values, only on shapes.
"""

import math

import torch

IN_CHANNELS, LENGTH, NUM_CLASSES = 4, 200, 180  # ppg+acc windows: 8 s at 25 Hz


def random_windows(n, seed=0):
    """(n, 4, 200) float32 windows and (n) int64 labels in [0, 180)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN_CHANNELS, LENGTH, generator=g)
    y = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    return x, y


def make_adamw(net, lr=5e-3, weight_decay=1e-2):
    """TrainConfig defaults: lr 5e-3, weight decay 1e-2 on weights only."""
    decay = [p for p in net.parameters() if p.dim() > 1]
    no_decay = [p for p in net.parameters() if p.dim() <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def lr_at(t, total, steps_per_epoch, lr=5e-3, warmup_epochs=1.0, min_lr_ratio=0.01):
    """trainer.cpp lr_at(): the learning rate of global step t."""
    warm = round(warmup_epochs * steps_per_epoch)
    if t < warm:
        return lr * (t + 1) / warm
    span = max(1, total - warm - 1)
    progress = min(1.0, (t - warm) / span)
    floor = lr * min_lr_ratio
    return floor + (lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def batches(n, batch, epoch, seed=1):
    """Row indices of each step of `epoch`: a permutation cut into batches."""
    g = torch.Generator().manual_seed(seed * 1000003 + epoch)
    order = torch.randperm(n, generator=g)
    return [order[lo:lo + batch] for lo in range(0, n, batch)]
