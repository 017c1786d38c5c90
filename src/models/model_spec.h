// Model specs: one string names an architecture completely, and the closed-form parameter count,
// multiply-accumulate count and weight bytes are computed from it without building the model.
//
//   resnet1d:stem=16,stages=16-32-64,blocks=1,k=5      ResNet1D
//   mlp:hidden=256-128                                  MLP on the flattened window
//
// Both take (B, C, L) windows (C input channels, L = 200 samples) and return (B, K = 180) logits.
// No libtorch in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppgkd {

struct ModelSpec {
  std::string family;           // "resnet1d" or "mlp"
  // resnet1d: stem width, stage widths (each stage after the first halves the length with a
  // stride-2 first block), basic blocks per stage, kernel width.
  int stem = 16;
  std::vector<int> stages;
  int blocks = 1;
  int kernel = 5;
  // mlp: hidden widths.
  std::vector<int> hidden;
  // Input shape, filled from the preprocessing config (not part of the string).
  int in_channels = 4;
  int length = 200;

  static ModelSpec parse(const std::string& s, int in_channels, int length);  // throws Error
  std::string str() const;  // canonical string; parse(str()) == *this
  int64_t num_params() const;
  int64_t macs() const;  // multiply-accumulates for one window, inference (BN folded)
  int64_t weight_bytes_f32() const { return 4 * num_params(); }
};

struct LadderRung {
  std::string name;  // "r1".."r9", "m1".."m7"
  std::string spec;
};
// The documented ladders, log-spaced in parameters from ~1k to >= 2M.
const std::vector<LadderRung>& resnet_ladder();
const std::vector<LadderRung>& mlp_ladder();
// A rung name ("r3") or a spec string -> spec string.
std::string resolve_spec(const std::string& name_or_spec);

}  // namespace ppgkd
