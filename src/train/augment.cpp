// Augmentation of standardised windows (see augment.h).
#include "train/augment.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "common/error.h"

namespace ppgkd {

namespace {
constexpr double kScaleLo = 0.8, kScaleHi = 1.2;
constexpr int64_t kMaxShift = 12;   // samples (0.48 s at 25 Hz)
constexpr double kNoiseStd = 0.05;  // windows are standardised, so this is 5% of their SD

constexpr double kCadenceLoHz = 0.8, kCadenceHiHz = 3.2;  // 48–192 steps or swings a minute
constexpr double kMaxDrift = 0.05;                        // cadence change over the window
constexpr double kPpgGainLo = 0.3, kPpgGainHi = 2.0;      // artefact SD relative to the PPG's
constexpr double kAccGainLo = 1.0, kAccGainHi = 4.0;      // added acc SD relative to the acc's
constexpr double kTransferLo = 0.5, kTransferHi = 1.5;    // scale of a transferred artefact
constexpr double kRidge = 1e-3;                           // keeps the least squares well posed

torch::Tensor uniform(at::Generator& gen, at::IntArrayRef shape, double lo, double hi) {
  return lo + (hi - lo) * torch::rand(shape, gen);
}

// Each (window, channel) row to zero mean and unit SD; a flat row becomes zeros.
torch::Tensor standardise(const torch::Tensor& x) {
  auto centred = x - x.mean(2, true);
  auto sd = centred.pow(2).mean(2, true).sqrt();
  return torch::where(sd > 1e-6, centred / sd.clamp_min(1e-6), torch::zeros_like(centred));
}

// Synthetic artefacts: PPG artefact (B, 1, L) and accelerometer trace (B, 3, L).
std::pair<torch::Tensor, torch::Tensor> synthetic_motion(at::Generator& gen, int64_t B, int64_t L,
                                                         double fs) {
  const double span = L / fs;
  auto t = (torch::arange(L, torch::kFloat32) / fs).view({1, 1, L});
  auto f0 = uniform(gen, {B, 1, 1}, kCadenceLoHz, kCadenceHiHz);
  auto drift = uniform(gen, {B, 1, 1}, -kMaxDrift, kMaxDrift);
  // Phase of a cadence changing linearly from f0 to f0 (1 + drift) over the window.
  auto phase = 2 * M_PI * f0 * (t + drift * t * t / (2 * span));
  auto wave = [&](int64_t rows, double half_max, double second_max) {
    auto p1 = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
    auto p2 = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
    auto ph = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
    auto a2 = uniform(gen, {B, rows, 1}, 0, second_max);
    auto ah = uniform(gen, {B, rows, 1}, 0, half_max);
    auto w = torch::sin(phase + p1) + a2 * torch::sin(2 * phase + p2) +
             ah * torch::sin(0.5 * phase + ph);
    return standardise(w);
  };
  auto ppg = wave(1, 0.5, 0.8) * uniform(gen, {B, 1, 1}, kPpgGainLo, kPpgGainHi);
  auto axes = torch::randn({B, 3, 1}, gen);
  axes = axes / axes.norm(2, 1, true).clamp_min(1e-6);
  auto acc =
      wave(3, 0.5, 0.8) * axes.abs().sqrt() * uniform(gen, {B, 1, 1}, kAccGainLo, kAccGainHi);
  return {ppg, acc};
}

// Transferred artefacts: for window i the donor is window (i + shift) mod B.
std::pair<torch::Tensor, torch::Tensor> transferred_motion(at::Generator& gen,
                                                           const torch::Tensor& x) {
  const int64_t B = x.size(0), L = x.size(2);
  const int64_t shift = B > 1 ? torch::randint(1, B, {1}, gen).item<int64_t>() : 0;
  auto donor = torch::roll(x, shift, 0);
  auto acc = donor.slice(1, 1, 4);                                       // (B, 3, L)
  auto dacc = torch::cat({torch::zeros({B, 3, 1}), acc.diff(1, 2)}, 2);  // (B, 3, L)
  auto design = torch::cat({acc, dacc, torch::ones({B, 1, L})}, 1);      // (B, 7, L)
  auto y = donor.slice(1, 0, 1).transpose(1, 2);                         // (B, L, 1)
  auto gram = design.bmm(design.transpose(1, 2)) + kRidge * L * torch::eye(7).unsqueeze(0);
  auto beta = torch::linalg::solve(gram, design.bmm(y), true);  // (B, 7, 1)
  auto artefact = beta.transpose(1, 2).bmm(design);             // (B, 1, L)
  artefact = artefact - artefact.mean(2, true);
  auto scale = uniform(gen, {B, 1, 1}, kTransferLo, kTransferHi);
  return {artefact * scale, acc * scale};
}

}  // namespace

torch::Tensor augment_basic(const torch::Tensor& x, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t B = x.size(0), C = x.size(1), L = x.size(2);
  auto scale = uniform(gen, {B, 1, 1}, kScaleLo, kScaleHi);
  auto shift = torch::randint(-kMaxShift, kMaxShift + 1, {B, 1, 1}, gen, torch::kInt64);
  auto idx = torch::remainder(torch::arange(L, torch::kInt64).view({1, 1, L}) - shift, L);
  auto shifted = x.gather(2, idx.expand({B, C, L}));
  return shifted * scale + kNoiseStd * torch::randn({B, C, L}, gen);
}

void check_motion_mode(const std::string& mode) {
  if (mode != "none" && mode != "synthetic" && mode != "transfer" && mode != "both")
    throw Error("train config",
                "motion_augment must be none, synthetic, transfer or both (got '" + mode + "')");
}

torch::Tensor augment_motion(const torch::Tensor& x, const std::string& mode, double prob,
                             double fs, uint64_t seed) {
  check_motion_mode(mode);
  if (mode == "none" || x.size(1) != 4 || prob <= 0) return x;
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t B = x.size(0), L = x.size(2);
  // Both kinds are drawn for every window so the random stream does not depend on the mode.
  auto [syn_ppg, syn_acc] = synthetic_motion(gen, B, L, fs);
  auto [tr_ppg, tr_acc] = transferred_motion(gen, x);
  auto pick_synthetic = torch::rand({B, 1, 1}, gen) < 0.5;
  auto apply = torch::rand({B, 1, 1}, gen) < prob;
  if (mode == "synthetic") pick_synthetic = torch::ones_like(pick_synthetic);
  if (mode == "transfer") pick_synthetic = torch::zeros_like(pick_synthetic);
  auto ppg = torch::where(pick_synthetic, syn_ppg, tr_ppg);
  auto acc = torch::where(pick_synthetic, syn_acc, tr_acc);
  auto changed = standardise(x + torch::cat({ppg, acc}, 1));
  return torch::where(apply, changed, x);
}

}  // namespace ppgkd
