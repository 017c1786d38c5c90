// Tests of the spectral HR estimator on signals built by hand: known HR, a spurious burst far
// from the track, an artefact the accelerometer also sees, a lost track, causality, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "baseline/spectral.h"
#include "common/error.h"
#include "data/synthetic/synthetic.h"

namespace ppgkd {
namespace {

constexpr double kPi = 3.14159265358979323846;
using Signal = std::function<double(double t)>;

// A recording of `seconds` at fs with every window that fits (labels unused, left at 0) and, when
// acc_motion is given, three acc axes carrying it with different weights and small delays.
Recording hand_recording(double fs, double seconds, const Signal& ppg, const Signal& acc_motion) {
  Recording rec;
  rec.dataset = "hand";
  rec.name = "hand";
  rec.path = "hand.mat";
  rec.fs = fs;
  const size_t n = static_cast<size_t>(std::lround(seconds * fs));
  rec.ppg.assign(1, std::vector<float>(n));
  for (size_t i = 0; i < n; ++i) rec.ppg[0][i] = static_cast<float>(ppg(i / fs));
  if (acc_motion) {
    rec.acc.assign(3, std::vector<float>(n));
    const double gravity[3] = {0.2, -0.5, 0.84}, weight[3] = {0.6, 0.3, -0.7};
    for (int a = 0; a < 3; ++a)
      for (size_t i = 0; i < n; ++i)
        rec.acc[a][i] = static_cast<float>(gravity[a] + weight[a] * acc_motion(i / fs + 0.05 * a));
  }
  for (size_t k = 0; k < windows_that_fit(n, fs); ++k)
    rec.windows.push_back({static_cast<int>(k), k * kStepSeconds, 0.0});
  return rec;
}

// A two-Gaussian beat (systolic + dicrotic) repeated at a constant rate, built independently of
// the synthetic generator.
Signal pulse_train(double bpm) {
  return [bpm](double t) {
    const double phase = t * bpm / 60 - std::floor(t * bpm / 60);
    double v = 0;
    for (int k = -1; k <= 1; ++k) {
      v += std::exp(-std::pow(phase + k - 0.3, 2) / (2 * 0.07 * 0.07));
      v += 0.4 * std::exp(-std::pow(phase + k - 0.55, 2) / (2 * 0.1 * 0.1));
    }
    return v;
  };
}

Signal sine(double bpm, double amp) {
  return [=](double t) { return amp * std::sin(2 * kPi * bpm / 60 * t); };
}

TEST(Spectral, CleanSignalsGiveTheirRateWithin1Bpm) {
  for (double fs : {25.0, 125.0}) {
    for (double bpm : {48.5, 72.0, 101.3, 150.8, 187.2}) {
      for (const Signal& s : {sine(bpm, 1.0), pulse_train(bpm)}) {
        const Recording rec = hand_recording(fs, 40, s, nullptr);
        for (const SpectralConfig& cfg : {spectral_plain_config(), SpectralConfig{}}) {
          const std::vector<double> est = spectral_hr(rec, cfg);
          ASSERT_EQ(est.size(), rec.windows.size());
          for (double e : est) EXPECT_NEAR(e, bpm, 1.0) << fs << " Hz, " << bpm << " BPM";
        }
      }
    }
  }
}

// A burst at 150 BPM, twice the pulse's amplitude, from 30 s to 36 s: the plain picker jumps to
// it, the tracker stays on the 80 BPM track.
TEST(Spectral, ContinuityRejectsAStrongerPeakFarFromTheTrack) {
  const Signal pulse = sine(80, 1.0), burst = sine(150, 2.0);
  const Recording rec = hand_recording(
      25, 60, [&](double t) { return pulse(t) + (t >= 30 && t < 36 ? burst(t) : 0.0); }, nullptr);
  const std::vector<double> plain = spectral_hr(rec, spectral_plain_config());
  const std::vector<double> tracked = spectral_hr(rec, SpectralConfig{});
  int jumped = 0;
  for (size_t k = 0; k < rec.windows.size(); ++k) {
    EXPECT_NEAR(tracked[k], 80, 1.0) << "window " << k;
    if (std::abs(plain[k] - 150) < 2) ++jumped;
  }
  EXPECT_GE(jumped, 2);  // the burst really is the strongest peak in some windows
}

// After a lasting jump of the pulse from 80 to 140 BPM at 40 s, the tracker holds for
// reacquire_after windows without a peak near the track, then takes the new global peak.
TEST(Spectral, LostTrackIsReacquired) {
  const Signal before = sine(80, 1.0), after = sine(140, 1.0);
  const Recording rec = hand_recording(
      25, 80, [&](double t) { return t < 40 ? before(t) : after(t); }, nullptr);
  const SpectralConfig cfg;
  const std::vector<double> est = spectral_hr(rec, cfg);
  // Window 20 is the first entirely after the jump; 16..19 straddle it.
  for (size_t k = 0; k < 16; ++k) EXPECT_NEAR(est[k], 80, 1.0) << "window " << k;
  for (size_t k = 20 + cfg.reacquire_after; k < est.size(); ++k)
    EXPECT_NEAR(est[k], 140, 1.0) << "window " << k;
}

// The PPG's strongest component is a 132 BPM movement that the accelerometer also records; the
// pulse is at 75 BPM with a third of its amplitude.
TEST(Spectral, AccelerometerPeakIsRejected) {
  const Signal pulse = sine(75, 1.0), motion = sine(132, 3.0);
  const Recording rec = hand_recording(
      25, 60, [&](double t) { return pulse(t) + motion(t); }, sine(132, 0.4));
  SpectralConfig acc_aware;
  acc_aware.track = false;
  SpectralConfig acc_blind = acc_aware;
  acc_blind.use_acc = false;
  const auto with_acc = spectral_hr(rec, acc_aware);
  const auto without_acc = spectral_hr(rec, acc_blind);
  const auto tracked = spectral_hr(rec, SpectralConfig{});
  for (size_t k = 0; k < rec.windows.size(); ++k) {
    EXPECT_NEAR(with_acc[k], 75, 1.0) << "window " << k;
    EXPECT_NEAR(without_acc[k], 132, 1.0) << "window " << k;
    EXPECT_NEAR(tracked[k], 75, 1.0) << "window " << k;
  }
}

// An accelerometer that only carries noise (no periodic movement) must not remove the pulse,
// even when its largest bin happens to sit on the pulse's frequency.
TEST(Spectral, NoiseOnlyAccelerometerRemovesNothing) {
  const Signal pulse = sine(75, 1.0);
  // A tiny acc component exactly at the pulse frequency plus a comparable broadband wobble:
  // the acc spectrum's maximum is at 75 BPM but it is not prominent.
  const Signal wobble = [](double t) {
    double v = 0;
    for (int j = 0; j < 40; ++j) v += 0.01 * std::sin(2 * kPi * (0.7 + 0.08 * j) * t + j * j);
    return v + 0.012 * std::sin(2 * kPi * 1.25 * t);
  };
  const Recording rec = hand_recording(25, 40, pulse, wobble);
  SpectralConfig cfg;
  cfg.track = false;
  for (double e : spectral_hr(rec, cfg)) EXPECT_NEAR(e, 75, 1.0);
  cfg.acc_min_prominence = 0;  // without the prominence gate the pulse is removed
  int removed = 0;
  for (double e : spectral_hr(rec, cfg)) removed += std::abs(e - 75) > 3;
  EXPECT_GT(removed, 0);
}

// Estimates for the first K windows do not change when everything after window K - 1 is replaced.
TEST(Spectral, TrackerIsCausal) {
  SyntheticConfig sc;
  sc.subjects = 1;
  sc.recordings_per_subject = 1;
  sc.duration_s = 120;
  const Recording rec = make_synthetic(sc)[0];
  const std::vector<double> full = spectral_hr(rec, SpectralConfig{});
  const size_t keep = 30;
  Recording cut = rec;
  cut.windows.resize(keep);
  const size_t end = (keep - 1) * 250 + 1000;  // last kept window's end at 125 Hz
  for (size_t i = end; i < cut.num_samples(); ++i) {
    cut.ppg[0][i] = static_cast<float>(5 * std::sin(0.3 * i));
    for (auto& axis : cut.acc) axis[i] = static_cast<float>(std::cos(0.7 * i));
  }
  const std::vector<double> part = spectral_hr(cut, SpectralConfig{});
  ASSERT_EQ(part.size(), keep);
  for (size_t k = 0; k < keep; ++k) EXPECT_EQ(part[k], full[k]) << "window " << k;
}

void expect_error(const std::function<void()>& f, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no error; expected " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Spectral, InvalidInputsAreRejected) {
  const Recording good = hand_recording(25, 40, sine(70, 1), sine(120, 1));
  Recording r = good;
  r.ppg.clear();
  expect_error([&] { spectral_hr(r); }, "hand.mat: recording hand has no PPG");
  r = good;
  r.acc.pop_back();
  expect_error([&] { spectral_hr(r); },
               "hand.mat: recording hand has 2 acc axes, expected 3 or none");
  r = good;
  r.acc[1].pop_back();
  expect_error([&] { spectral_hr(r); },
               "hand.mat: recording hand has 999 acc samples per axis but 1000 PPG samples");
  r = good;
  r.windows.push_back({17, 34, 0});  // 17 * 50 + 200 = 1050 > 1000 samples
  expect_error([&] { spectral_hr(r); },
               "hand.mat: window 17 of recording hand ends beyond its 1000 samples");
  SpectralConfig cfg;
  cfg.lo_bpm = 100;
  cfg.hi_bpm = 50;
  expect_error([&] { SpectralTracker(25, 200, cfg); },
               "spectral: band [100, 50] BPM must be increasing and inside (0, 750) BPM");
  cfg = SpectralConfig{};
  cfg.hi_bpm = 800;
  expect_error([&] { SpectralTracker(25, 200, cfg); },
               "spectral: band [40, 800] BPM must be increasing and inside (0, 750) BPM");
  cfg = SpectralConfig{};
  cfg.resolution_bpm = 0;
  expect_error([&] { SpectralTracker(25, 200, cfg); },
               "spectral: resolution_bpm must be positive, got 0");
  expect_error([&] { SpectralTracker(25, 1, SpectralConfig{}); },
               "spectral: need a positive rate and at least 2 samples, got 25 Hz and 1");
}

}  // namespace
}  // namespace ppgkd
