// Model specs: one string names an architecture completely, and the closed-form parameter count,
// multiply-accumulate count and weight bytes are computed from it without building the model.
//
//   resnet1d:stem=16,stages=16-32-64,blocks=1,k=5      ResNet1D
//   mlp:hidden=256-128                                  MLP on the flattened window
//
// Both take (B, C, L) windows (C input channels, L = 200 samples) and return (B, K = 180) logits.
// The architectures themselves are in networks.h; the counts here are tested against them.
// No libtorch in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppgkd {

struct ModelSpec {
  std::string family;  // "resnet1d" or "mlp"
  // resnet1d: stem width, stage widths (each stage after the first halves the length with a
  // stride-2 first block), basic blocks per stage, kernel width (odd, so "same" padding k/2
  // keeps the length at stride 1).
  int stem = 16;
  std::vector<int> stages;
  int blocks = 1;
  int kernel = 5;
  // mlp: hidden widths (at least one).
  std::vector<int> hidden;
  // Input shape, filled from the preprocessing config (not part of the string).
  int in_channels = 4;
  int length = 200;

  static ModelSpec parse(const std::string& s, int in_channels, int length);  // throws Error
  std::string str() const;  // canonical string; parse(str()) == *this
  // Trainable parameters. BatchNorm counts 2 per channel (weight, bias); its running mean,
  // running variance and batch counter are buffers, not parameters, and are not counted.
  int64_t num_params() const;
  int64_t macs() const;  // multiply-accumulates for one window, inference (BN folded)
  int64_t weight_bytes_f32() const { return 4 * num_params(); }

  // Number of feature stages: ResNet stages, or MLP hidden layers.
  int num_stages() const;
  // Shape of one window's feature at `stage` (0..num_stages()-1, or -1 for the last):
  // resnet1d {C_s, L_s}; mlp {D_s}. Throws Error for a bad stage.
  std::vector<int64_t> feature_shape(int stage) const;
  // Length after ResNet stage s (the stem and stage 0 keep L; each later stage halves it, rounded
  // up: L_out = (L_in - 1) / 2 + 1).
  int stage_length(int stage) const;

  bool operator==(const ModelSpec& o) const;
  bool operator!=(const ModelSpec& o) const { return !(*this == o); }
};

struct LadderRung {
  std::string name;  // "r1".."r9", "m1".."m7"
  std::string spec;
};
// The documented ladders, log-spaced in parameters (see model_spec.cpp for the reasoning).
const std::vector<LadderRung>& resnet_ladder();
const std::vector<LadderRung>& mlp_ladder();
// A rung name ("r3") or a spec string -> spec string. Unknown rung names throw Error.
std::string resolve_spec(const std::string& name_or_spec);

}  // namespace ppgkd
