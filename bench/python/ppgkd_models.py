"""PyTorch twins of ppgkd's ResNet1D and MLP (src/models/networks.cpp), for benchmarks only.

The architecture is the C++ one layer for layer:

  stem     conv C->S (k taps, padding k//2, no bias) + BN(S) + ReLU
  stage i  `blocks` basic blocks; the first block of every stage after the first has stride 2:
             conv w_in->w (k, stride s, no bias) + BN + ReLU, conv w->w (k, no bias) + BN,
             shortcut 1x1 conv w_in->w (stride s, no bias) + BN when w_in != w or s != 1,
             ReLU(y + shortcut)
  head     global average pool over time, linear w_last->K (+ bias)

MLP: flatten (B, C*L), Linear+ReLU per hidden width, linear head to K.

Spec strings and ladder rungs are those of src/models/model_spec.cpp; `closed_form_params`
mirrors ModelSpec::num_params() and LADDER_PARAMS holds what `ppgkd models` prints for ppg+acc
(C=4, L=200), so a drift on either side fails loudly instead of benchmarking another model.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 180  # src/data/dsp/class_map.h

# src/models/model_spec.cpp, resnet_ladder() and mlp_ladder().
LADDER = {
    "r1": "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3",
    "r2": "resnet1d:stem=4,stages=4-4-6-6-8,blocks=1,k=5",
    "r3": "resnet1d:stem=4,stages=4-6-8-12-12,blocks=1,k=7",
    "r4": "resnet1d:stem=6,stages=6-8-12-16-24,blocks=1,k=7",
    "r5": "resnet1d:stem=8,stages=8-12-16-32-48,blocks=1,k=7",
    "r6": "resnet1d:stem=8,stages=8-16-24-48-64,blocks=1,k=7",
    "r7": "resnet1d:stem=12,stages=12-24-48-64-128,blocks=1,k=7",
    "r8": "resnet1d:stem=12,stages=12-24-48-96-192-192,blocks=1,k=7",
    "r9": "resnet1d:stem=12,stages=12-24-48-96-192-384,blocks=1,k=7",
    "m1": "mlp:hidden=4",
    "m2": "mlp:hidden=12",
    "m3": "mlp:hidden=32",
    "m4": "mlp:hidden=64-64",
    "m5": "mlp:hidden=160-128",
    "m6": "mlp:hidden=384-256",
    "m7": "mlp:hidden=1024-512-256",
}

# Trainable parameters as printed by `ppgkd models` (inputs ppg+acc: C=4, L=200, K=180).
LADDER_PARAMS = {
    "r1": 1481, "r2": 3532, "r3": 8140, "r4": 18608, "r5": 55420, "r6": 102292,
    "r7": 292380, "r8": 1131996, "r9": 2236764,
    "m1": 4104, "m2": 11952, "m3": 31572, "m4": 67124, "m5": 171988, "m6": 452404,
    "m7": 1522612,
}


def parse_spec(name_or_spec):
    """'r3' or 'resnet1d:stem=4,stages=4-6,blocks=1,k=7' -> dict (defaults as in model_spec.h)."""
    s = LADDER.get(name_or_spec, name_or_spec)
    family, _, rest = s.partition(":")
    kv = dict(item.split("=", 1) for item in rest.split(",") if item)
    widths = lambda v: [int(w) for w in v.split("-")]
    if family == "resnet1d":
        spec = {"family": family, "stem": int(kv.pop("stem", 16)), "stages": widths(kv.pop("stages")),
                "blocks": int(kv.pop("blocks", 1)), "kernel": int(kv.pop("k", 5))}
        if spec["kernel"] % 2 == 0:
            raise ValueError(f"{s}: k must be odd")
    elif family == "mlp":
        spec = {"family": family, "hidden": widths(kv.pop("hidden"))}
    else:
        raise ValueError(f"{s}: unknown model family {family!r}")
    if kv:
        raise ValueError(f"{s}: unknown keys {sorted(kv)}")
    return spec


def closed_form_params(spec, in_channels=4, length=200, classes=NUM_CLASSES):
    """ModelSpec::num_params(): BN counts 2 per channel (weight, bias); running stats are buffers."""
    n = 0
    if spec["family"] == "resnet1d":
        k, w_in = spec["kernel"], spec["stem"]
        n += in_channels * w_in * k + 2 * w_in
        for i, w in enumerate(spec["stages"]):
            for b in range(spec["blocks"]):
                stride = 2 if (b == 0 and i > 0) else 1
                n += w_in * w * k + 2 * w + w * w * k + 2 * w
                if w_in != w or stride != 1:
                    n += w_in * w + 2 * w
                w_in = w
        return n + w_in * classes + classes
    d = in_channels * length
    for h in spec["hidden"]:
        n += d * h + h
        d = h
    return n + d * classes + classes


def _conv(cin, cout, k, stride):
    return nn.Conv1d(cin, cout, k, stride=stride, padding=k // 2, bias=False)


class BasicBlock1d(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, cout, k, stride), nn.BatchNorm1d(cout)
        self.conv2, self.bn2 = _conv(cout, cout, k, 1), nn.BatchNorm1d(cout)
        self.down_conv = self.down_bn = None
        if cin != cout or stride != 1:
            self.down_conv, self.down_bn = _conv(cin, cout, 1, stride), nn.BatchNorm1d(cout)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = self.down_bn(self.down_conv(x)) if self.down_conv is not None else x
        return F.relu(y + shortcut)


class ResNet1d(nn.Module):
    """(B, C, L) -> (B, K) logits."""

    def __init__(self, spec, in_channels=4):
        super().__init__()
        k = spec["kernel"]
        self.stem_conv = _conv(in_channels, spec["stem"], k, 1)
        self.stem_bn = nn.BatchNorm1d(spec["stem"])
        blocks, cin = [], spec["stem"]
        for i, w in enumerate(spec["stages"]):
            for b in range(spec["blocks"]):
                blocks.append(BasicBlock1d(cin, w, k, 2 if (b == 0 and i > 0) else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x):
        h = F.relu(self.stem_bn(self.stem_conv(x)))
        h = self.blocks(h)
        return self.head(h.mean(2))  # global average pool (B, C_last) -> (B, K)


class Mlp(nn.Module):
    """(B, C, L) -> flatten (B, C*L) -> (B, K) logits."""

    def __init__(self, spec, in_channels=4, length=200):
        super().__init__()
        layers, d = [], in_channels * length
        for h in spec["hidden"]:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, NUM_CLASSES)

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


def build(name_or_spec, in_channels=4, length=200, expect_params=None):
    """Builds the model and asserts its parameter count against the closed form, the ladder table
    (for rung names) and `expect_params` (e.g. parsed from `ppgkd models` by the driver)."""
    spec = parse_spec(name_or_spec)
    net = ResNet1d(spec, in_channels) if spec["family"] == "resnet1d" else Mlp(spec, in_channels, length)
    n = count_params(net)
    want = closed_form_params(spec, in_channels, length)
    assert n == want, f"{name_or_spec}: built {n} parameters, closed form says {want}"
    if name_or_spec in LADDER_PARAMS and (in_channels, length) == (4, 200):
        assert n == LADDER_PARAMS[name_or_spec], \
            f"{name_or_spec}: built {n} parameters, `ppgkd models` says {LADDER_PARAMS[name_or_spec]}"
    if expect_params is not None:
        assert n == expect_params, f"{name_or_spec}: built {n} parameters, expected {expect_params}"
    return net


def count_params(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":  # self-check: every rung matches `ppgkd models`
    for rung in LADDER:
        print(f"{rung:3} {count_params(build(rung)):>9}  {LADDER[rung]}")
