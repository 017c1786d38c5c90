// Augmentation of standardised windows (see augment.h).
#include "train/augment.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
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

// The varied mode's further kinds of motion (see augment.h).
constexpr double kPulseShare = 0.5;       // periodic windows that are pulse trains
constexpr double kPulseSdLo = 0.06;       // pulse SD in seconds, 1.5–4 samples at 25 Hz,
constexpr double kPulseSdHi = 0.15;       // drawn apart for the PPG and the accelerometer
constexpr double kPulseSdMaxRad = 0.8;    // and at most 0.8 rad of the cycle
constexpr double kIrregularShare = 0.25;  // windows of band-limited motion
constexpr double kBandLoHz = 0.5, kBandHiHz = 4.0;  // where irregular motion lives
constexpr double kMaxLagSeconds = 0.3;              // PPG lag behind irregular motion
constexpr double kIntermittentShare = 0.3;          // windows where motion starts or stops
constexpr double kEdgeSeconds = 0.2;                // time constant of that start or stop
// augment_harmonic: the squared pulse's weight (its second harmonic's amplitude against the
// standardised fundamental's sqrt(2)).
constexpr double kHarmonicLo = 0.5, kHarmonicHi = 3.0;

torch::Tensor uniform(at::Generator& gen, at::IntArrayRef shape, double lo, double hi) {
  return lo + (hi - lo) * torch::rand(shape, gen);
}

// Each (window, channel) row to zero mean and unit SD; a flat row becomes zeros.
torch::Tensor standardise(const torch::Tensor& x) {
  auto centred = x - x.mean(2, true);
  auto sd = centred.pow(2).mean(2, true).sqrt();
  return torch::where(sd > 1e-6, centred / sd.clamp_min(1e-6), torch::zeros_like(centred));
}

// Phase (B, 1, L) of a cadence f0 ~ U(0.8, 3.2) Hz changing linearly to f0 (1 + drift) over the
// window, drift ~ U(-0.05, 0.05); returns the phase and f0 (B, 1, 1).
std::pair<torch::Tensor, torch::Tensor> cadence_phase(at::Generator& gen, int64_t B, int64_t L,
                                                      double fs) {
  const double span = L / fs;
  auto t = (torch::arange(L, torch::kFloat32) / fs).view({1, 1, L});
  auto f0 = uniform(gen, {B, 1, 1}, kCadenceLoHz, kCadenceHiHz);
  auto drift = uniform(gen, {B, 1, 1}, -kMaxDrift, kMaxDrift);
  return {2 * M_PI * f0 * (t + drift * t * t / (2 * span)), f0};
}

// (B, rows, L) standardised sinusoids at the cadence, with half-cadence (arm swing) content of
// amplitude U(half_lo, 0.5) and second-harmonic content of amplitude U(second_lo, second_hi),
// every component at a random phase.
torch::Tensor harmonic_wave(at::Generator& gen, const torch::Tensor& phase, int64_t rows,
                            double half_lo, double second_lo, double second_hi) {
  const int64_t B = phase.size(0);
  auto p1 = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
  auto p2 = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
  auto ph = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
  auto a2 = uniform(gen, {B, rows, 1}, second_lo, second_hi);
  auto ah = uniform(gen, {B, rows, 1}, half_lo, 0.5);
  return standardise(torch::sin(phase + p1) + a2 * torch::sin(2 * phase + p2) +
                     ah * torch::sin(0.5 * phase + ph));
}

// Synthetic artefacts: PPG artefact (B, 1, L) and accelerometer trace (B, 3, L).
std::pair<torch::Tensor, torch::Tensor> synthetic_motion(at::Generator& gen, int64_t B, int64_t L,
                                                         double fs) {
  auto phase = cadence_phase(gen, B, L, fs).first;
  // One statement per draw, in the order of the draws behind every published result.
  auto ppg_gain = uniform(gen, {B, 1, 1}, kPpgGainLo, kPpgGainHi);
  auto ppg_wave = harmonic_wave(gen, phase, 1, 0.0, 0.0, 0.8);
  auto axes = torch::randn({B, 3, 1}, gen);
  axes = axes / axes.norm(2, 1, true).clamp_min(1e-6);
  auto acc_gain = uniform(gen, {B, 1, 1}, kAccGainLo, kAccGainHi);
  auto acc_wave = harmonic_wave(gen, phase, 3, 0.0, 0.0, 0.8);
  return {ppg_wave * ppg_gain, acc_wave * axes.abs().sqrt() * acc_gain};
}

// Varied artefacts: PPG artefact (B, 1, L) and accelerometer trace (B, 3, L). A shared cadence as
// in synthetic_motion, drawn as a sinusoid with harmonics (the second may dominate the PPG) or as
// a pulse train; or, for a share of windows, band-limited irregular motion; then, for a share of
// windows, an envelope that starts or stops the motion inside the window.
std::pair<torch::Tensor, torch::Tensor> varied_motion(at::Generator& gen, int64_t B, int64_t L,
                                                      double fs) {
  auto t = (torch::arange(L, torch::kFloat32) / fs).view({1, 1, L});
  const double span = L / fs;
  auto [phase, f0] = cadence_phase(gen, B, L, fs);
  // Pulse train (punches, jumps): a Gaussian pulse per cycle, mixed with its time derivative.
  auto pulses = [&](int64_t rows) {
    auto p = uniform(gen, {B, rows, 1}, 0, 2 * M_PI);
    auto width =
        (2 * M_PI * f0 * uniform(gen, {B, 1, 1}, kPulseSdLo, kPulseSdHi)).clamp_max(kPulseSdMaxRad);
    auto mix = uniform(gen, {B, rows, 1}, 0, M_PI);
    auto w = torch::atan2(torch::sin(phase + p), torch::cos(phase + p));
    auto g = torch::exp(-0.5 * (w / width).pow(2));
    auto dg = -w / width.pow(2) * g;
    return standardise(torch::cos(mix) * standardise(g) + torch::sin(mix) * standardise(dg));
  };
  auto is_pulse = torch::rand({B, 1, 1}, gen) < kPulseShare;
  // The accelerometer's sinusoid always carries some half-cadence and second-harmonic content,
  // so every frequency of the PPG artefact is one the accelerometer shows. Each draw is a
  // statement of its own, so the order of the draws is fixed.
  auto ppg_wave = harmonic_wave(gen, phase, 1, 0.0, 0.0, 1.5);
  auto ppg_pulses = pulses(1);
  auto ppg = torch::where(is_pulse, ppg_pulses, ppg_wave);
  auto acc_wave = harmonic_wave(gen, phase, 3, 0.1, 0.1, 0.8);
  auto acc_pulses = pulses(3);
  auto acc = torch::where(is_pulse, acc_pulses, acc_wave);

  // Irregular motion: noise band-limited to [lo, hi] Hz, on the three axes with a shared source,
  // and in the PPG lagged by up to kMaxLagSeconds.
  auto freqs = torch::arange(L / 2 + 1, torch::kFloat32).view({1, 1, -1}) * (fs / L);
  auto lo = uniform(gen, {B, 1, 1}, kBandLoHz, kBandHiHz - 1.0);
  auto hi = lo + uniform(gen, {B, 1, 1}, 0.5, 1.0) * (kBandHiHz - lo);
  auto band = ((freqs >= lo) & (freqs <= hi)).to(torch::kFloat32);
  auto band_noise = [&](int64_t rows) {
    return torch::fft::irfft(torch::fft::rfft(torch::randn({B, rows, L}, gen)) * band, L);
  };
  auto source = standardise(band_noise(1));
  auto lag = (uniform(gen, {B, 1, 1}, 0, kMaxLagSeconds) * fs).round().to(torch::kInt64);
  auto idx = torch::remainder(torch::arange(L, torch::kInt64).view({1, 1, L}) - lag, L);
  auto irregular_ppg = source.gather(2, idx);
  auto own_noise = band_noise(3);
  auto source_weights = torch::randn({B, 3, 1}, gen);
  auto irregular_acc = standardise(source * source_weights + 0.3 * own_noise);
  auto is_irregular = torch::rand({B, 1, 1}, gen) < kIrregularShare;
  ppg = torch::where(is_irregular, irregular_ppg, ppg);
  acc = torch::where(is_irregular, irregular_acc, acc);

  // Intermittent motion: one envelope for PPG and accelerometer, on for 30–80 % of the window.
  auto on = uniform(gen, {B, 1, 1}, -0.3 * span, 0.7 * span);
  auto off = on + uniform(gen, {B, 1, 1}, 0.3 * span, 0.8 * span);
  auto envelope =
      torch::sigmoid((t - on) / kEdgeSeconds) * torch::sigmoid((off - t) / kEdgeSeconds);
  auto is_intermittent = torch::rand({B, 1, 1}, gen) < kIntermittentShare;
  ppg = torch::where(is_intermittent, standardise(ppg * envelope), ppg);
  acc = torch::where(is_intermittent, standardise(acc * envelope), acc);

  auto axes = torch::randn({B, 3, 1}, gen);
  axes = axes / axes.norm(2, 1, true).clamp_min(1e-6);
  return {ppg * uniform(gen, {B, 1, 1}, kPpgGainLo, kPpgGainHi),
          acc * axes.abs().sqrt() * uniform(gen, {B, 1, 1}, kAccGainLo, kAccGainHi)};
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

torch::Tensor augment_harmonic(const torch::Tensor& x, double prob, uint64_t seed) {
  if (prob <= 0) return x;
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t B = x.size(0);
  auto apply = torch::rand({B, 1, 1}, gen) < prob;
  auto a = uniform(gen, {B, 1, 1}, kHarmonicLo, kHarmonicHi);
  auto p = x.narrow(1, 0, 1);  // (B, 1, L)
  auto squared = p.square();
  squared = squared - squared.mean(2, true);
  auto boosted = standardise(p + a * squared);
  auto out = x.clone();
  out.narrow(1, 0, 1).copy_(torch::where(apply, boosted, p));
  return out;
}

const std::vector<std::string>& motion_modes() {
  static const std::vector<std::string> modes = {"none", "synthetic", "transfer", "both", "varied"};
  return modes;
}

void check_motion_mode(const std::string& mode) {
  const auto& all = motion_modes();
  if (std::find(all.begin(), all.end(), mode) != all.end()) return;
  std::string names;
  for (size_t i = 0; i < all.size(); ++i)
    names += (i == 0 ? "" : i + 1 == all.size() ? " or " : ", ") + all[i];
  throw Error("train config", "motion_augment must be " + names + " (got '" + mode + "')");
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
  // Drawn last, so the other modes' streams are those they had before it existed.
  if (mode == "varied") std::tie(ppg, acc) = varied_motion(gen, B, L, fs);
  auto changed = standardise(x + torch::cat({ppg, acc}, 1));
  return torch::where(apply, changed, x);
}

}  // namespace ppgkd
