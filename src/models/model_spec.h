// Model specs: one string names an architecture completely, and the closed-form parameter count,
// multiply-accumulate count and weight bytes are computed from it without building the model.
//
//   resnet1d:stem=16,stages=16-32-64,blocks=1,k=5      ResNet1D
//   resnet1d:stem=16,stages=16-32-64,k=5,spectral=16   ResNet1D plus a spectral branch of width 16
//   mlp:hidden=256-128                                  MLP on the flattened window
//   ensemble:n=3;resnet1d:stem=8,stages=8-16,k=5        seed ensemble: 3 members of one spec
//   ensemble:n=2;resnet1d:...,spectral=16;resnet1d:...,spectral=16,harmonics=1
//                                                       mixed ensemble: one spec per member
//
// An ensemble's string is "ensemble:n=N;" followed by its member's spec when all N members share
// one (a seed ensemble), else by the N members' specs in order, separated by ';' (no other family
// uses ';', so they never collide). Members may not be ensembles. Its parameters, MACs and weight
// bytes are the sum of the members' (the averaging of the posteriors is not counted). Its feature
// stages are those every member has (the fewest); the feature at a stage is the mean of the
// members' features, so feature_shape refuses a stage where the members' shapes differ.
//
// Both take (B, C, L) windows (C input channels, L = 200 samples) and return (B, K = 180) logits.
// The architectures themselves are in networks.h; the counts here are tested against them.
// No libtorch in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ppgkd {

struct ModelSpec {
  std::string family;  // "resnet1d", "mlp" or "ensemble"
  // resnet1d: stem width, stage widths (each stage after the first halves the length with a
  // stride-2 first block), basic blocks per stage, kernel width (odd, so "same" padding k/2
  // keeps the length at stride 1).
  int stem = 16;
  std::vector<int> stages;
  int blocks = 1;
  int kernel = 5;
  // resnet1d: channel width N of the optional spectral branch (0 = none, the default; str() then
  // omits the key). The branch (networks.h) takes the magnitude spectrum of every input channel
  // over the heart-rate band and adds 180 spectral logits to the head's. Geometry:
  //   fs = length / 8 s (the 8 s window; 25 Hz for L = 200), FFT size n = kSpectralFftSize
  //   (the Hann-windowed input zero-padded to 1024: bin j is at j * fs / n Hz, 0.0244 Hz at 25 Hz),
  //   bins spectral_first_bin() .. + spectral_num_bins() - 1: the smallest run of bins whose span
  //   contains every class centre (30.5 .. 209.5 BPM); at 25 Hz bins 20..144 (29.3-210.9 BPM).
  //   Layers over the F bins: conv C->N (kSpectralKernel taps, "same", no bias) + BN + ReLU,
  //   conv N->N (same) + BN + ReLU, conv N->1 (1 tap, no bias), a fixed linear interpolation from
  //   the bins onto the class centres (spectral_interp()), times a learnable scalar.
  int spectral = 0;
  // resnet1d with spectral > 0: harmonics=1 feeds the branch each channel's spectrum at twice and
  // at half the bin's frequency beside the bin's own (3C input channels instead of C), so that
  // one bin's filters can weigh f against 2f and f/2: a resting pulse whose second harmonic
  // outweighs its fundamental is told apart from a pulse at 2f. harmonics=ppg does so for the PPG
  // channel (channel 0) alone (C + 2 input channels). 0 (the default) is off and str() omits the
  // key. Needs 2 * (the band's last bin) <= kSpectralFftSize / 2 (fs >= 14 Hz).
  static constexpr int kHarmonicsAll = 1, kHarmonicsPpg = 2;
  int harmonics = 0;  // 0, kHarmonicsAll or kHarmonicsPpg
  // mlp: hidden widths (at least one).
  std::vector<int> hidden;
  // ensemble: each member's spec in order (never an ensemble; the ensemble's input shape). A seed
  // ensemble's entries are all one spec. Empty for the other families.
  std::vector<std::shared_ptr<const ModelSpec>> member_specs;
  int members() const { return static_cast<int>(member_specs.size()); }
  bool is_ensemble() const { return !member_specs.empty(); }
  bool is_mixed_ensemble() const;  // an ensemble whose members are not all of one spec
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

  // Spectral branch geometry (meaningful for any length <= kSpectralFftSize; see `spectral`).
  static constexpr int kSpectralFftSize = 1024;
  static constexpr int kSpectralKernel = 7;
  double sample_rate_hz() const;  // length / 8 s
  int spectral_first_bin() const;
  int spectral_num_bins() const;  // F
  int spectral_in_channels() const {
    return harmonics == kHarmonicsAll ? 3 * in_channels
                                      : in_channels + (harmonics == kHarmonicsPpg ? 2 : 0);
  }
  // The fixed interpolation, (F, K) row-major: spectral logit c = sum_j s[j] * W[j][c]. Class c's
  // centre (30.5 + c) BPM is the frequency (30.5 + c) / 60 Hz, i.e. the fractional bin
  // p_c = (30.5 + c) / 60 * n / fs; column c holds 1 - t at bin floor(p_c) and t = p_c - floor(p_c)
  // at the next bin (relative to spectral_first_bin()), so a spectrum peaked at f Hz gives its
  // largest logit to the class whose centre is nearest 60 f BPM, i.e. class floor(60 f - 30).
  std::vector<float> spectral_interp() const;

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
// A rung name ("r3") or a spec string -> spec string. Unknown rung names throw Error. A rung may
// carry overrides after a comma, "r6,spectral=16" or "r6,k=5": each key=value replaces the rung's
// own value of that key or is appended (the parser checks the result).
std::string resolve_spec(const std::string& name_or_spec);

}  // namespace ppgkd
