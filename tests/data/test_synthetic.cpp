// Tests of the synthetic generator: determinism, shape, labels checked against beats detected in
// the clean signal, spectra checked with a direct DFT written here (independent of the baseline's
// FFT), the accelerometer's coupling to the PPG artefact, and config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "common/error.h"
#include "data/synthetic/synthetic.h"

namespace ppgkd {
namespace {

constexpr double kPi = 3.14159265358979323846;

SyntheticConfig small_config(uint64_t seed) {
  SyntheticConfig cfg;
  cfg.seed = seed;
  cfg.subjects = 2;
  cfg.recordings_per_subject = 2;
  cfg.duration_s = 120;
  return cfg;
}

// x[start, start + n) with its mean removed and a Hann window applied.
std::vector<double> hann_window(const std::vector<float>& x, size_t start, size_t n) {
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += x[start + i];
  mean /= n;
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i)
    y[i] = (x[start + i] - mean) * (0.5 - 0.5 * std::cos(2 * kPi * i / (n - 1)));
  return y;
}

// |DFT of y at f_hz|^2 by Goertzel's recurrence (a direct DFT at one frequency).
double dft_power(const std::vector<double>& y, double fs, double f_hz) {
  const double coeff = 2 * std::cos(2 * kPi * f_hz / fs);
  double s1 = 0, s2 = 0;
  for (double v : y) {
    const double s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

// The frequency (BPM) of maximum summed power over `channels` in [lo, hi]: a 1 BPM grid, then a
// 0.05 BPM grid within +-1 BPM of the best point.
double dominant_bpm(const std::vector<const std::vector<float>*>& channels, size_t start, size_t n,
                    double fs, double lo_bpm, double hi_bpm) {
  std::vector<std::vector<double>> ys;
  for (const auto* ch : channels) ys.push_back(hann_window(*ch, start, n));
  auto power = [&](double bpm) {
    double p = 0;
    for (const auto& y : ys) p += dft_power(y, fs, bpm / 60);
    return p;
  };
  auto argmax = [&](double lo, double hi, double step) {
    double best = lo, best_p = -1;
    for (double bpm = lo; bpm <= hi + 1e-9; bpm += step) {
      const double p = power(bpm);
      if (p > best_p) {
        best_p = p;
        best = bpm;
      }
    }
    return best;
  };
  const double coarse = argmax(lo_bpm, hi_bpm, 1.0);
  return argmax(std::max(lo_bpm, coarse - 1), std::min(hi_bpm, coarse + 1), 0.05);
}

// Systolic upstrokes of a noise-free PPG: local maxima of the first difference that reach 30% of
// the largest difference within +-0.75 s, at least 40% of the previous beat interval after the
// previous upstroke (the dicrotic wave's smaller upstroke comes 20–30% of a beat after the
// systolic one). Returns sample indices.
std::vector<size_t> systolic_upstrokes(const std::vector<float>& x, double fs) {
  std::vector<double> d(x.size(), 0.0);
  for (size_t i = 1; i < x.size(); ++i) d[i] = double(x[i]) - x[i - 1];
  const size_t half = static_cast<size_t>(0.75 * fs);
  std::vector<size_t> beats;
  double min_gap = 0.3 * fs;  // before the first interval is known: above 190 BPM's period / 2
  for (size_t i = half; i + half < x.size(); ++i) {
    if (!(d[i] > d[i - 1] && d[i] >= d[i + 1])) continue;
    const double local_max = *std::max_element(d.begin() + (i - half), d.begin() + (i + half));
    if (d[i] < 0.3 * local_max) continue;
    if (!beats.empty() && i - beats.back() < min_gap) continue;
    if (!beats.empty()) min_gap = 0.4 * (i - beats.back());
    beats.push_back(i);
  }
  return beats;
}

// ---------------------------------------------------------------------------- determinism
TEST(Synthetic, SameSeedGivesIdenticalOutput) {
  const auto a = make_synthetic(small_config(7));
  const auto b = make_synthetic(small_config(7));
  ASSERT_EQ(a.size(), b.size());
  for (size_t r = 0; r < a.size(); ++r) {
    EXPECT_EQ(a[r].ppg, b[r].ppg);  // bitwise float equality
    EXPECT_EQ(a[r].acc, b[r].acc);
    ASSERT_EQ(a[r].windows.size(), b[r].windows.size());
    for (size_t k = 0; k < a[r].windows.size(); ++k)
      EXPECT_EQ(a[r].windows[k].hr_bpm, b[r].windows[k].hr_bpm);
  }
}

TEST(Synthetic, DifferentSeedsDiffer) {
  const auto a = make_synthetic(small_config(7));
  const auto b = make_synthetic(small_config(8));
  for (size_t r = 0; r < a.size(); ++r) {
    EXPECT_NE(a[r].ppg, b[r].ppg);
    EXPECT_NE(a[r].acc, b[r].acc);
    EXPECT_NE(a[r].windows[0].hr_bpm, b[r].windows[0].hr_bpm);
  }
  // Recordings of one seed differ from each other too (independent streams).
  EXPECT_NE(a[0].ppg, a[1].ppg);
  EXPECT_NE(a[0].ppg, a[2].ppg);
}

// ---------------------------------------------------------------------------- shape
TEST(Synthetic, DefaultShapeMatchesConfig) {
  const SyntheticConfig cfg;
  const auto recs = make_synthetic(cfg);
  ASSERT_EQ(recs.size(), 24u);                      // 24 subjects x 1 recording
  const size_t n = 300 * 125;                       // 37500 samples
  const size_t windows = (37500 - 1000) / 250 + 1;  // 147, the SPC 2015 count rule
  std::set<std::string> names;
  for (size_t r = 0; r < recs.size(); ++r) {
    const Recording& rec = recs[r];
    EXPECT_EQ(rec.dataset, "synthetic");
    const int subject = static_cast<int>(r) + 1;
    EXPECT_EQ(rec.subject,
              std::string("synthetic/s") + char('0' + subject / 10) + char('0' + subject % 10));
    names.insert(rec.name);
    EXPECT_EQ(rec.fs, 125.0);
    ASSERT_EQ(rec.ppg.size(), 1u);
    ASSERT_EQ(rec.acc.size(), 3u);
    EXPECT_EQ(rec.ppg[0].size(), n);
    for (const auto& axis : rec.acc) EXPECT_EQ(axis.size(), n);
    ASSERT_EQ(rec.windows.size(), windows);
    EXPECT_EQ(rec.windows.size(), windows_that_fit(n, 125));
    for (size_t k = 0; k < windows; ++k) {
      EXPECT_EQ(rec.windows[k].index, static_cast<int>(k));
      EXPECT_DOUBLE_EQ(rec.windows[k].t_start_s, 2.0 * k);
    }
    EXPECT_TRUE(rec.dropped.empty());
  }
  EXPECT_EQ(names.size(), 24u);
  EXPECT_TRUE(names.count("s01_r1") && names.count("s24_r1"));
}

TEST(Synthetic, OtherRateAndDuration) {
  SyntheticConfig cfg = small_config(3);
  cfg.fs = 50;
  cfg.duration_s = 61;
  cfg.subjects = 1;
  cfg.recordings_per_subject = 3;
  const auto recs = make_synthetic(cfg);
  ASSERT_EQ(recs.size(), 3u);
  for (const Recording& rec : recs) {
    EXPECT_EQ(rec.subject, "synthetic/s01");
    EXPECT_EQ(rec.ppg[0].size(), 3050u);
    EXPECT_EQ(rec.windows.size(), (3050u - 400u) / 100u + 1u);  // 27
  }
}

TEST(Synthetic, GenerationIsFast) {
  const std::clock_t c0 = std::clock();
  const auto recs = make_synthetic(SyntheticConfig{});
  const double cpu_s = double(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf("%zu x 300 s at 125 Hz generated in %.3f s of CPU time\n", recs.size(), cpu_s);
  EXPECT_LT(cpu_s, 1.0);
}

// ---------------------------------------------------------------------------- labels
TEST(Synthetic, LabelsSpanRestToExerciseWithinRange) {
  const auto recs = make_synthetic(SyntheticConfig{});
  double lo = 1e9, hi = -1e9;
  for (const Recording& rec : recs)
    for (const WindowLabel& w : rec.windows) {
      ASSERT_TRUE(std::isfinite(w.hr_bpm));
      EXPECT_GE(w.hr_bpm, 50.0);
      EXPECT_LE(w.hr_bpm, 190.0);
      lo = std::min(lo, w.hr_bpm);
      hi = std::max(hi, w.hr_bpm);
    }
  EXPECT_LT(lo, 70.0);   // resting rates are drawn from 52–82 BPM
  EXPECT_GT(hi, 160.0);  // bout targets reach up to the subject's 165–192 BPM maximum
}

// The label is the mean HR over the window, so the window holds label / 60 * 8 beats. Counting
// systolic upstrokes in the clean signal checks that per window (to one beat) and, summed over
// non-overlapping windows tiling the recording, to about 0.5 BPM on average.
TEST(Synthetic, LabelsMatchDetectedBeats) {
  SyntheticConfig cfg;
  cfg.subjects = 4;
  cfg.recordings_per_subject = 1;
  cfg.motion_scale = 0;
  cfg.noise_scale = 0;
  for (const Recording& rec : make_synthetic(cfg)) {
    const std::vector<size_t> beats = systolic_upstrokes(rec.ppg[0], rec.fs);
    auto count_in = [&](double t0, double t1) {
      return std::count_if(beats.begin(), beats.end(),
                           [&](size_t i) { return i >= t0 * rec.fs && i < t1 * rec.fs; });
    };
    // Detection ignores the first and last 0.75 s, so check windows well inside.
    double expected_total = 0;
    long counted_total = 0;
    for (size_t k = 1; k + 1 < rec.windows.size(); ++k) {
      const WindowLabel& w = rec.windows[k];
      const double expected = w.hr_bpm / 60 * kWindowSeconds;
      const long counted = count_in(w.t_start_s, w.t_start_s + kWindowSeconds);
      EXPECT_LE(std::abs(counted - expected), 1.0) << rec.name << " window " << k;
      if (k % 4 == 1) {  // windows 1, 5, 9, ... tile the recording without overlap
        expected_total += expected;
        counted_total += counted;
      }
    }
    const double span_s = kWindowSeconds * ((rec.windows.size() - 3) / 4 + 1);
    EXPECT_LE(std::abs(counted_total - expected_total), 1.5)
        << rec.name << ": " << counted_total << " beats counted, " << expected_total
        << " implied by the labels over " << span_s << " s";
  }
}

// ---------------------------------------------------------------------------- spectra
TEST(Synthetic, RestSpectrumPeaksAtLabel) {
  SyntheticConfig cfg;  // with motion elsewhere and noise
  cfg.subjects = 4;
  cfg.recordings_per_subject = 1;
  const size_t len = 1000;
  size_t checked = 0, within_bin = 0;
  for (const Recording& rec : make_synthetic(cfg)) {
    for (size_t k = 0; k < rec.windows.size(); k += 2) {
      const WindowLabel& w = rec.windows[k];
      if (synthetic_window_in_motion(rec, w.t_start_s)) continue;
      const double f = dominant_bpm({&rec.ppg[0]}, k * 250, len, rec.fs, 40, 200);
      ++checked;
      // One bin of the 8 s window's natural resolution is 7.5 BPM; demand a fifth of it.
      if (std::abs(f - w.hr_bpm) <= 1.5) ++within_bin;
      EXPECT_LE(std::abs(f - w.hr_bpm), 7.5) << rec.name << " window " << k;
    }
  }
  ASSERT_GT(checked, 40u);
  EXPECT_GE(within_bin, checked * 95 / 100) << within_bin << " of " << checked;
}

// The artefact alone is the difference of two recordings that differ only in motion_scale (the
// random draws do not depend on it). Its dominant frequency must be the accelerometer's, and the
// accelerometer must separate motion from rest clearly.
TEST(Synthetic, MotionArtefactSharesTheAccelerometerFrequency) {
  SyntheticConfig cfg;
  cfg.subjects = 3;
  cfg.recordings_per_subject = 1;
  const auto moving = make_synthetic(cfg);
  cfg.motion_scale = 0;
  const auto still = make_synthetic(cfg);
  size_t motion = 0, rest = 0, quiet_rest = 0, clean_rest = 0, strong_motion = 0, same_freq = 0,
         cadence_apart = 0;
  double max_rest_art_rms = 0;
  for (size_t r = 0; r < moving.size(); ++r) {
    const Recording& rec = moving[r];
    ASSERT_EQ(rec.acc, still[r].acc);  // the movement is the same, only its PPG coupling differs
    std::vector<float> artefact(rec.ppg[0].size());
    for (size_t i = 0; i < artefact.size(); ++i) artefact[i] = rec.ppg[0][i] - still[r].ppg[0][i];
    for (size_t k = 0; k < rec.windows.size(); k += 3) {
      const WindowLabel& w = rec.windows[k];
      const size_t start = k * 250;
      double acc_power = 0;  // summed variance of the axes over the window, g^2
      for (const auto& axis : rec.acc) {
        double m = 0, v = 0;
        for (size_t i = start; i < start + 1000; ++i) m += axis[i];
        m /= 1000;
        for (size_t i = start; i < start + 1000; ++i) v += (axis[i] - m) * (axis[i] - m);
        acc_power += v / 1000;
      }
      const double acc_rms = std::sqrt(acc_power);
      const bool in_motion = synthetic_window_in_motion(rec, w.t_start_s);
      EXPECT_EQ(in_motion, acc_rms > kMotionAccRmsG) << rec.name << " window " << k;
      if (!in_motion) {
        ++rest;
        if (acc_rms < 0.02) ++quiet_rest;
        // No artefact at all, or the edge of a bout: the last or first ~0.5 s of the window.
        double art_peak = 0, art_power = 0;
        for (size_t i = start; i < start + 1000; ++i) {
          art_peak = std::max(art_peak, double(std::abs(artefact[i])));
          art_power += double(artefact[i]) * artefact[i] / 1000;
        }
        if (art_peak < 1e-3) ++clean_rest;
        max_rest_art_rms = std::max(max_rest_art_rms, std::sqrt(art_power));
        // A whole window of motion has an artefact RMS of ~0.3–3 (0.7–3 pulse fundamentals).
        EXPECT_LT(std::sqrt(art_power), 0.2) << rec.name << " window " << k;
        continue;
      }
      ++motion;
      if (acc_rms > 0.15) ++strong_motion;
      const double f_art = dominant_bpm({&artefact}, start, 1000, rec.fs, 40, 400);
      const double f_acc =
          dominant_bpm({&rec.acc[0], &rec.acc[1], &rec.acc[2]}, start, 1000, rec.fs, 40, 400);
      // While the cadence changes it sweeps, and the two mixes may peak apart inside one bin. A
      // window that only catches the start or end of a bout holds a burst of a second or two,
      // whose spectral peak is too broad to compare; the share of same_freq below covers them.
      if (acc_rms > 0.15) {
        EXPECT_LE(std::abs(f_art - f_acc), 7.5) << rec.name << " window " << k;
      }
      if (std::abs(f_art - f_acc) <= 0.5) ++same_freq;
      EXPECT_GE(f_art, 80.0);  // cadence 1.5–3 Hz with a small drift
      EXPECT_LE(f_art, 190.0);
      if (std::abs(f_art - w.hr_bpm) > 10) ++cadence_apart;
    }
  }
  ASSERT_GT(motion, 30u);
  ASSERT_GT(rest, 10u);
  EXPECT_GE(quiet_rest, rest * 8 / 10) << quiet_rest << " of " << rest;
  EXPECT_GE(clean_rest, rest * 8 / 10) << clean_rest << " of " << rest;
  EXPECT_GE(strong_motion, motion * 8 / 10) << strong_motion << " of " << motion;
  EXPECT_GE(same_freq, motion * 9 / 10) << same_freq << " of " << motion;
  // Cadence and HR differ most of the time (they cross as the HR moves and rarely coincide).
  EXPECT_GE(cadence_apart, motion * 7 / 10) << cadence_apart << " of " << motion;
  std::printf(
      "motion windows %zu (acc > 0.15 g: %zu, artefact at the acc frequency: %zu, "
      "cadence > 10 BPM from HR: %zu); rest windows %zu (acc < 0.02 g: %zu, no artefact: %zu, "
      "largest artefact RMS %.3f)\n",
      motion, strong_motion, same_freq, cadence_apart, rest, quiet_rest, clean_rest,
      max_rest_art_rms);
}

// What makes the dataset learnable across subjects: the accelerometer tells when and how fast the
// wearer moves, not the heart rate. Over the motion windows of the default dataset, the
// accelerometer's dominant frequency (the cadence) and its RMS are nearly uncorrelated with the
// label, and the label spans a wide range at any cadence (so no cadence -> HR lookup works).
double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= x.size();
  my /= y.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(Synthetic, AccelerometerDoesNotTellTheHeartRate) {
  std::vector<double> cadence, rms, hr;
  double slow_lo = 1e9, slow_hi = -1e9, fast_lo = 1e9, fast_hi = -1e9;
  for (const Recording& rec : make_synthetic(SyntheticConfig{})) {
    for (size_t k = 0; k < rec.windows.size(); k += 3) {
      const WindowLabel& w = rec.windows[k];
      if (!synthetic_window_in_motion(rec, w.t_start_s)) continue;
      const size_t start = k * 250;
      double power = 0;
      for (const auto& axis : rec.acc) {
        double m = 0, v = 0;
        for (size_t i = start; i < start + 1000; ++i) m += axis[i];
        m /= 1000;
        for (size_t i = start; i < start + 1000; ++i) v += (axis[i] - m) * (axis[i] - m);
        power += v / 1000;
      }
      const double f =
          dominant_bpm({&rec.acc[0], &rec.acc[1], &rec.acc[2]}, start, 1000, rec.fs, 80, 190);
      cadence.push_back(f);
      rms.push_back(std::sqrt(power));
      hr.push_back(w.hr_bpm);
      // Label range among slow (< 120 steps/min) and fast (> 150 steps/min) cadences.
      if (f < 120) slow_lo = std::min(slow_lo, w.hr_bpm), slow_hi = std::max(slow_hi, w.hr_bpm);
      if (f > 150) fast_lo = std::min(fast_lo, w.hr_bpm), fast_hi = std::max(fast_hi, w.hr_bpm);
    }
  }
  ASSERT_GT(hr.size(), 300u);
  const double r_cadence = pearson(cadence, hr), r_rms = pearson(rms, hr);
  std::printf(
      "%zu motion windows: r(cadence, HR) = %.3f, r(acc RMS, HR) = %.3f; HR at slow cadence "
      "%.0f–%.0f, at fast cadence %.0f–%.0f BPM\n",
      hr.size(), r_cadence, r_rms, slow_lo, slow_hi, fast_lo, fast_hi);
  EXPECT_LT(std::abs(r_cadence), 0.3);
  EXPECT_LT(std::abs(r_rms), 0.3);
  EXPECT_GT(slow_hi - slow_lo, 60.0);
  EXPECT_GT(fast_hi - fast_lo, 60.0);
}

// ---------------------------------------------------------------------------- errors
void expect_error(const SyntheticConfig& cfg, const std::string& message) {
  try {
    make_synthetic(cfg);
    ADD_FAILURE() << "no error; expected " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Synthetic, InvalidConfigIsRejected) {
  SyntheticConfig cfg;
  cfg.subjects = 0;
  expect_error(cfg, "synthetic: subjects must be at least 1, got 0");
  cfg = SyntheticConfig{};
  cfg.recordings_per_subject = -2;
  expect_error(cfg, "synthetic: recordings_per_subject must be at least 1, got -2");
  cfg = SyntheticConfig{};
  cfg.fs = 10;
  expect_error(cfg, "synthetic: fs must be at least 20 Hz, got 10");
  cfg = SyntheticConfig{};
  cfg.duration_s = 7.5;
  expect_error(cfg, "synthetic: duration_s must be at least 8 s (one window), got 7.5");
  cfg = SyntheticConfig{};
  cfg.motion_scale = -1;
  expect_error(cfg, "synthetic: motion_scale must be non-negative, got -1");
  cfg = SyntheticConfig{};
  cfg.noise_scale = -0.5;
  expect_error(cfg, "synthetic: noise_scale must be non-negative, got -0.5");
}

TEST(Synthetic, InMotionNeedsAnAccelerometerAndAFittingWindow) {
  Recording rec = make_synthetic(small_config(1))[0];
  try {
    synthetic_window_in_motion(rec, 112.5);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "synthetic:1: window at 112.5 s does not fit in recording s01_r1 (120 s)");
  }
  rec.acc.clear();
  try {
    synthetic_window_in_motion(rec, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "synthetic:1: recording s01_r1 has no 3-axis accelerometer");
  }
}

}  // namespace
}  // namespace ppgkd
