// Motion-artefact augmentation: what it adds is explained by what it adds to the accelerometer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "common/error.h"
#include "train/augment.h"

namespace ppgkd {
namespace {

constexpr double kFs = 25.0;
constexpr int64_t kL = 200;

// Frequency (Hz) of the largest DFT magnitude of a row, over bins 1..L/2.
double peak_hz(const torch::Tensor& row) {
  auto mag = torch::fft::rfft(row.to(torch::kFloat64)).abs();
  mag.index_put_({0}, 0.0);
  return mag.argmax().item<int64_t>() * kFs / row.size(0);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(Augment, LeavesPpgOnlyWindowsAndNoneModeAlone) {
  torch::manual_seed(0);
  auto ppg_only = torch::randn({5, 1, kL});
  EXPECT_TRUE(torch::equal(augment_motion(ppg_only, "both", 1.0, kFs, 3), ppg_only));
  auto x = torch::randn({5, 4, kL});
  EXPECT_TRUE(torch::equal(augment_motion(x, "none", 1.0, kFs, 3), x));
  EXPECT_TRUE(torch::equal(augment_motion(x, "both", 0.0, kFs, 3), x));
  EXPECT_THROW(augment_motion(x, "wobble", 1.0, kFs, 3), Error);
}

TEST(Augment, UnknownModeNamesEveryMode) {
  for (const auto& mode : motion_modes()) EXPECT_NO_THROW(check_motion_mode(mode));
  try {
    check_motion_mode("wobble");
    FAIL() << "no error for an unknown mode";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("none, synthetic, transfer, both or varied (got 'wobble')"),
        std::string::npos)
        << e.what();
  }
}

TEST(Augment, SyntheticArtefactSharesItsCadenceWithTheAccelerometer) {
  // Empty windows: after augmentation each channel holds only the added motion.
  const int64_t B = 64;
  auto out = augment_motion(torch::zeros({B, 4, kL}), "synthetic", 1.0, kFs, 11);
  int agree = 0;
  for (int64_t b = 0; b < B; ++b) {
    const double f_ppg = peak_hz(out[b][0]);
    auto acc_power = torch::zeros({kL / 2 + 1}, torch::kFloat64);
    for (int c = 1; c < 4; ++c)
      acc_power += torch::fft::rfft(out[b][c].to(torch::kFloat64)).abs().pow(2);
    acc_power.index_put_({0}, 0.0);
    const double f_acc = acc_power.argmax().item<int64_t>() * kFs / kL;
    EXPECT_GE(f_ppg, 0.8 * 0.95 - 0.125) << b;
    EXPECT_LE(f_ppg, 3.2 * 1.05 + 0.125) << b;
    if (std::fabs(f_ppg - f_acc) <= 0.125 + 1e-9) ++agree;
    // Standardised again: zero mean, unit SD on every channel.
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(out[b][c].mean().item<double>(), 0.0, 1e-5);
      EXPECT_NEAR(out[b][c].pow(2).mean().item<double>(), 1.0, 1e-4);
    }
  }
  // The fundamental dominates both traces (harmonic amplitudes < 1), so they agree within one
  // 0.125 Hz bin; random phases on three axes can rarely tip the sum to a neighbour bin.
  EXPECT_GE(agree, B - 2);
}

// Power spectrum of a row without its DC bin.
torch::Tensor power(const torch::Tensor& row) {
  auto p = torch::fft::rfft(row.to(torch::kFloat64)).abs().pow(2);
  p.index_put_({0}, 0.0);
  return p;
}

TEST(Augment, VariedArtefactLivesWhereTheAccelerometerMoves) {
  // Empty windows, so each channel holds only the added motion. Whatever its shape (harmonics,
  // pulses, band-limited noise, an envelope), the PPG artefact's power sits at frequencies where
  // the accelerometer also has power: within one bin of a bin holding at least 1e-3 of the
  // accelerometer's peak power.
  const int64_t B = 256;
  auto out = augment_motion(torch::zeros({B, 4, kL}), "varied", 1.0, kFs, 13);
  int explained = 0, peaky = 0, smooth = 0;
  for (int64_t b = 0; b < B; ++b) {
    auto acc = power(out[b][1]) + power(out[b][2]) + power(out[b][3]);
    auto moving = (acc >= 1e-3 * acc.max()).to(torch::kFloat64).view({1, 1, -1});
    auto near = torch::max_pool1d(moving, 3, 1, 1).view({-1}) > 0;
    auto ppg = power(out[b][0]);
    const double share = (ppg * near).sum().item<double>() / ppg.sum().item<double>();
    if (share >= 0.9) ++explained;
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(out[b][c].mean().item<double>(), 0.0, 1e-5);
      EXPECT_NEAR(out[b][c].pow(2).mean().item<double>(), 1.0, 1e-4);
    }
    // Kurtosis: about 1.5 for a sinusoid, 3 for Gaussian noise, well above 3 for pulse trains
    // and for motion that stops inside the window.
    const double kurtosis = out[b][0].pow(4).mean().item<double>();
    peaky += kurtosis > 4.0;
    smooth += kurtosis < 2.5;
  }
  EXPECT_GE(explained, B * 95 / 100);
  // The shapes really vary: both smooth and impulsive artefacts occur, neither only rarely.
  EXPECT_GT(peaky, B / 10);
  EXPECT_GT(smooth, B / 10);
}

TEST(Augment, TransferMovesTheAccelerometerExplainedPartOfTheDonor) {
  // Window 1 is the donor: its PPG is 2 acc_x + 0.5 diff(acc_y) + 3, exactly. Window 0 is empty,
  // so afterwards its PPG is the standardised artefact and its acc the standardised donor acc.
  torch::manual_seed(1);
  auto acc = torch::randn({3, kL}, torch::kFloat32);
  auto dy = torch::cat({torch::zeros({1}), acc[1].diff()});
  auto ppg = 2 * acc[0] + 0.5 * dy + 3;
  auto x = torch::zeros({2, 4, kL});
  x[1][0] = ppg;
  x[1].slice(0, 1, 4) = acc;
  auto out = augment_motion(x, "transfer", 1.0, kFs, 5);
  auto standardise = [](const torch::Tensor& r) {
    auto c = r - r.mean();
    return c / c.pow(2).mean().sqrt();
  };
  EXPECT_LT(max_abs_diff(out[0][0], standardise(ppg)), 1e-2);
  for (int c = 1; c < 4; ++c) EXPECT_LT(max_abs_diff(out[0][c], standardise(acc[c - 1])), 1e-4);
}

TEST(Augment, DeterministicInItsSeed) {
  torch::manual_seed(2);
  auto x = torch::randn({16, 4, kL});
  for (const char* mode : {"both", "varied"}) {
    auto a = augment_motion(x, mode, 0.5, kFs, 7);
    auto b = augment_motion(x, mode, 0.5, kFs, 7);
    auto c = augment_motion(x, mode, 0.5, kFs, 8);
    EXPECT_TRUE(torch::equal(a, b)) << mode;
    EXPECT_FALSE(torch::equal(a, c)) << mode;
    // prob = 0.5: some windows are changed and some are not.
    int changed = 0;
    for (int64_t i = 0; i < 16; ++i) changed += !torch::equal(a[i], x[i]);
    EXPECT_GT(changed, 0) << mode;
    EXPECT_LT(changed, 16) << mode;
  }
}

// A standardised sinusoid over whole cycles, sqrt(2) sin(wt), becomes sqrt(2) sin(wt) - a cos(2wt)
// with a in [0.5, 3], standardised: its projections on sin(wt) and cos(2wt) explain it all, the
// harmonic's coefficient is negative, their ratio is a / sqrt(2), and the variance is
// (c1^2 + c2^2) / 2 = 1. The accelerometer rows and the windows not drawn stay bit for bit.
TEST(Augment, HarmonicBoostAddsTheSecondHarmonicInClosedForm) {
  const int64_t B = 32;
  const double pi = std::acos(-1.0), w = 2 * pi * 10 / kL;  // 10 cycles: 1.25 Hz, 75 BPM
  auto t = torch::arange(kL, torch::kFloat64);
  auto x = torch::randn({B, 4, kL}, torch::kFloat64);
  x.narrow(1, 0, 1).copy_((std::sqrt(2.0) * torch::sin(w * t)).expand({B, 1, kL}));
  EXPECT_TRUE(torch::equal(augment_harmonic(x, 0.0, 3), x));
  auto y = augment_harmonic(x, 0.5, 3);
  EXPECT_TRUE(torch::equal(y.narrow(1, 1, 3), x.narrow(1, 1, 3)));
  auto s1 = torch::sin(w * t), c2 = torch::cos(2 * w * t);
  int changed = 0;
  for (int64_t i = 0; i < B; ++i) {
    auto p = y[i][0];
    if (torch::equal(p, x[i][0])) continue;
    ++changed;
    const double k1 = (p * s1).sum().item<double>() * 2 / kL;
    const double k2 = (p * c2).sum().item<double>() * 2 / kL;
    EXPECT_LT((p - k1 * s1 - k2 * c2).abs().max().item<double>(), 1e-9) << i;
    EXPECT_GT(k1, 0) << i;
    EXPECT_LT(k2, 0) << i;
    EXPECT_GE(-k2 / k1, 0.5 / std::sqrt(2.0) - 1e-9) << i;
    EXPECT_LE(-k2 / k1, 3.0 / std::sqrt(2.0) + 1e-9) << i;
    EXPECT_NEAR((k1 * k1 + k2 * k2) / 2, 1.0, 1e-9) << i;
  }
  EXPECT_GT(changed, 4);
  EXPECT_LT(changed, B - 4);
  // Deterministic in its seed.
  EXPECT_TRUE(torch::equal(augment_harmonic(x, 0.5, 3), y));
  EXPECT_FALSE(torch::equal(augment_harmonic(x, 0.5, 4), y));
}

}  // namespace
}  // namespace ppgkd
