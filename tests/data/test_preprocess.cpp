// Tests of src/data/preprocess: config JSON and validation, signal conditioning and windowing on
// hand-built recordings of pure tones, whose standardised windows are known in closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/preprocess.h"

namespace ppgkd {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPpgHz = 1.3;  // 2.6 cycles per 2 s step: a window shifted by a step differs
constexpr double kAccHz = 2.2;
constexpr double kPpgOffset = 1000, kPpgAmp = 50;  // a large offset, as raw PPG has
constexpr double kGravity = 500, kAccAmp = 0.8;
constexpr int kL = 200;

// Reference window count for a recording of `seconds`: (seconds - 8) / 2 + 1 whole windows.
int windows_in(double seconds) {
  return static_cast<int>((seconds - 8) / 2) + 1;
}

// PPG channel c is a tone at kPpgHz with phase c * pi / 2; acc axis a a tone at kAccHz with phase
// a (z also carries gravity); labels k = 0 .. K-1 with HR 60 + k.
Recording tone_recording(const std::string& name, const std::string& subject, double fs,
                         double seconds, int ppg_channels = 1, bool acc = true) {
  Recording rec;
  rec.dataset = "test";
  rec.name = name;
  rec.subject = subject;
  rec.path = "/nowhere/" + name + ".mat";
  rec.fs = fs;
  const size_t n = static_cast<size_t>(std::lround(seconds * fs));
  rec.ppg.assign(ppg_channels, std::vector<float>(n));
  for (int c = 0; c < ppg_channels; ++c) {
    for (size_t i = 0; i < n; ++i) {
      rec.ppg[c][i] = kPpgOffset + kPpgAmp * std::sin(2 * kPi * kPpgHz * i / fs + c * kPi / 2);
    }
  }
  if (acc) {
    rec.acc.assign(3, std::vector<float>(n));
    for (int a = 0; a < 3; ++a) {
      for (size_t i = 0; i < n; ++i) {
        rec.acc[a][i] = (a == 2 ? kGravity : 0) + kAccAmp * std::sin(2 * kPi * kAccHz * i / fs + a);
      }
    }
  }
  for (int k = 0; k < windows_in(seconds); ++k) rec.windows.push_back({k, 2.0 * k, 60.0 + k});
  return rec;
}

// The standardised window of sin(2 pi f t + phase) starting at t0, at 25 Hz, computed directly.
std::vector<double> expected_window(double f, double phase, double t0) {
  std::vector<double> s(kL);
  double mean = 0, var = 0;
  for (int i = 0; i < kL; ++i) {
    s[i] = std::sin(2 * kPi * f * (t0 + i / 25.0) + phase);
    mean += s[i] / kL;
  }
  for (double v : s) var += (v - mean) * (v - mean) / kL;
  for (double& v : s) v = (v - mean) / std::sqrt(var);
  return s;
}

double max_diff(const float* got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  return worst;
}

std::string error_of(const nlohmann::json& j) {
  try {
    PreprocessConfig::from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// ---------------------------------------------------------------------------- config

TEST(PreprocessConfig, JsonRoundTrip) {
  PreprocessConfig c;
  c.inputs = "ppg";
  c.ppg_channel = "mean";
  c.band_lo_hz = 0.6;
  c.band_hi_hz = 3.5;
  c.band_order = 3;
  c.acc_highpass_hz = 0.2;
  c.acc_order = 1;
  c.causal = true;
  const PreprocessConfig back = PreprocessConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.inputs, "ppg");
  EXPECT_EQ(back.ppg_channel, "mean");
  EXPECT_EQ(back.band_order, 3);
  EXPECT_TRUE(back.causal);
  EXPECT_EQ(back.channels(), 1);
  EXPECT_EQ(back.length(), 200);

  // Absent keys keep their defaults.
  const PreprocessConfig partial = PreprocessConfig::from_json({{"inputs", "ppg"}});
  EXPECT_EQ(partial.fs, 25.0);
  EXPECT_EQ(partial.ppg_channel, "0");
  EXPECT_EQ(PreprocessConfig().channels(), 4);
}

TEST(PreprocessConfig, RejectsBadValues) {
  EXPECT_EQ(error_of({{"inputs", "ecg"}}),
            "preprocess config: inputs must be \"ppg\" or \"ppg+acc\" (got \"ecg\")");
  EXPECT_EQ(error_of({{"ppg_channel", "first"}}),
            "preprocess config: ppg_channel must be \"mean\" or a channel index >= 0 (got "
            "\"first\")");
  EXPECT_EQ(error_of({{"ppg_channel", "-1"}}),
            "preprocess config: ppg_channel must be \"mean\" or a channel index >= 0 (got \"-1\")");
  EXPECT_EQ(error_of({{"fs", 0}}), "preprocess config: fs must be positive (got 0)");
  EXPECT_EQ(error_of({{"fs", -25}}), "preprocess config: fs must be positive (got -25)");
  EXPECT_EQ(error_of({{"fs", 6}}),
            "preprocess config: band must satisfy 0 < band_lo_hz < band_hi_hz < fs/2 (got 0.5 "
            "and 4 Hz at fs 6 Hz)");
  EXPECT_EQ(error_of({{"window_s", 10}}),
            "preprocess config: window_s and step_s must be 8 and 2: the reference labels are "
            "defined on that grid (got 10 and 2)");
  EXPECT_EQ(error_of({{"fs", "25"}}), "preprocess config: 'fs' must be a number");
  EXPECT_EQ(error_of({{"band_order", 2.5}}), "preprocess config: 'band_order' must be an integer");
  EXPECT_EQ(error_of({{"causal", 1}}), "preprocess config: 'causal' must be true or false");
  EXPECT_EQ(error_of({{"sampling", 25}}), "preprocess config: unknown key 'sampling'");
  EXPECT_EQ(error_of({{"acc_highpass_hz", 0}}),
            "preprocess config: acc_highpass_hz must be inside (0, fs/2) (got 0 Hz at fs 25 Hz)");
  EXPECT_EQ(error_of(nlohmann::json::array()), "preprocess config: must be a JSON object");
}

// ---------------------------------------------------------------------------- windows

TEST(MakeWindows, ShapeOrderAndLabels) {
  const std::vector<Recording> recs = {tone_recording("a", "s1", 125, 60),
                                       tone_recording("b", "s2", 50, 40)};
  const WindowSet ws = make_windows(recs, PreprocessConfig());
  const size_t n = windows_in(60) + windows_in(40);  // 27 + 17
  ASSERT_EQ(ws.size(), n);
  EXPECT_EQ(ws.channels, 4);
  EXPECT_EQ(ws.length, kL);
  EXPECT_EQ(ws.x.size(), n * 4 * kL);
  ASSERT_EQ(ws.recordings.size(), 2u);
  EXPECT_EQ(ws.recordings[1].name, "b");
  EXPECT_EQ(ws.recordings[1].subject, "s2");
  for (size_t i = 0; i < n; ++i) {
    const bool first = i < static_cast<size_t>(windows_in(60));
    EXPECT_EQ(ws.recording[i], first ? 0 : 1);
    const int k = first ? static_cast<int>(i) : static_cast<int>(i) - windows_in(60);
    EXPECT_EQ(ws.window[i], k);
    EXPECT_EQ(ws.hr[i], 60.0f + k);
  }
  EXPECT_TRUE(ws.dropped.empty());
  EXPECT_EQ(ws.subjects(), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(ws.rows_of_subjects({"s2"}).size(), static_cast<size_t>(windows_in(40)));
  EXPECT_EQ(ws.rows_of_subjects({"s2"}).front(), static_cast<size_t>(windows_in(60)));
  EXPECT_TRUE(ws.rows_of_subjects({"nobody"}).empty());
}

TEST(MakeWindows, EveryWindowIsStandardisedPerChannel) {
  const WindowSet ws = make_windows({tone_recording("a", "s1", 125, 60)}, PreprocessConfig());
  for (size_t i = 0; i < ws.size(); ++i) {
    for (int c = 0; c < ws.channels; ++c) {
      const float* w = ws.window_ptr(i) + c * kL;
      double mean = 0, sq = 0;
      for (int j = 0; j < kL; ++j) mean += w[j] / double(kL);
      for (int j = 0; j < kL; ++j) sq += (w[j] - mean) * (w[j] - mean) / kL;
      ASSERT_NEAR(mean, 0.0, 1e-5) << i << "," << c;
      ASSERT_NEAR(sq, 1.0, 1e-4) << i << "," << c;
    }
  }
}

// Windows of tone recordings must be the standardised tone starting at t0 = 2 k seconds: the
// filters are zero-phase with near-unit gain at the tone, so a one-sample offset (0.33 rad at
// 1.3 Hz) would show. The first and last two windows are skipped for the filters' end effects.
void expect_windows_at_offsets(double fs) {
  const double seconds = 60;
  const WindowSet ws = make_windows({tone_recording("a", "s1", fs, seconds)}, PreprocessConfig());
  ASSERT_EQ(ws.size(), static_cast<size_t>(windows_in(seconds)));
  for (size_t i = 2; i + 2 < ws.size(); ++i) {
    const double t0 = 2.0 * ws.window[i];
    EXPECT_LT(max_diff(ws.window_ptr(i), expected_window(kPpgHz, 0, t0)), 0.02) << fs << " " << i;
    for (int a = 0; a < 3; ++a) {
      EXPECT_LT(max_diff(ws.window_ptr(i) + (1 + a) * kL, expected_window(kAccHz, a, t0)), 0.02)
          << fs << " " << i << " axis " << a;
    }
  }
}

TEST(MakeWindows, WindowsStartAtTwoSecondSteps125Hz) {
  expect_windows_at_offsets(125);
}
TEST(MakeWindows, WindowsStartAtTwoSecondSteps50Hz) {
  expect_windows_at_offsets(50);
}
TEST(MakeWindows, WindowsStartAtTwoSecondSteps25Hz) {
  expect_windows_at_offsets(25);
}

TEST(MakeWindows, NonFiniteSamplesDropTheirWindowsOnly) {
  const PreprocessConfig cfg;
  const Recording clean = tone_recording("a", "s1", 125, 60, 2);
  Recording dirty = clean;
  // Native sample 2500 (t = 20 s) lies in windows k = 7..10: 250 k <= 2500 < 250 k + 1000.
  dirty.ppg[0][2500] = NAN;
  dirty.ppg[1][5000] = INFINITY;  // channel 1 is not used by the default config
  const WindowSet a = make_windows({clean}, cfg), b = make_windows({dirty}, cfg);
  ASSERT_EQ(b.size(), a.size() - 4);
  EXPECT_EQ(b.dropped.at("non-finite signal"), 4u);
  for (size_t i = 0, j = 0; i < a.size(); ++i) {
    if (a.window[i] >= 7 && a.window[i] <= 10) continue;
    ASSERT_EQ(b.window[j], a.window[i]);
    // The NaN was filled before filtering, so it has not spread into other windows.
    for (size_t v = 0; v < 4 * kL; ++v) {
      ASSERT_NEAR(b.window_ptr(j)[v], a.window_ptr(i)[v], 1e-3) << "window " << a.window[i];
    }
    ++j;
  }

  // With "mean" both PPG channels are used: sample 5000 (t = 40 s) adds windows 17..20.
  PreprocessConfig mean = cfg;
  mean.ppg_channel = "mean";
  EXPECT_EQ(make_windows({dirty}, mean).dropped.at("non-finite signal"), 8u);

  // Non-finite acc samples matter under "ppg+acc" only.
  Recording acc_bad = clean;
  acc_bad.acc[1][2500] = NAN;
  PreprocessConfig ppg_only = cfg;
  ppg_only.inputs = "ppg";
  EXPECT_EQ(make_windows({acc_bad}, ppg_only).size(), a.size());
  EXPECT_EQ(make_windows({acc_bad}, cfg).dropped.at("non-finite signal"), 4u);
}

TEST(MakeWindows, LabelsPastTheEndAndReaderDropsAreCounted) {
  Recording rec = tone_recording("a", "s1", 125, 30);
  const int k_past = windows_in(30);  // the first window that does not fit
  rec.windows.push_back({k_past, 2.0 * k_past, 80});
  rec.windows.push_back({3, 6.0, NAN});
  rec.windows.erase(rec.windows.begin() + 3);  // the original label of window 3
  rec.dropped["missing HR"] = 2;
  const WindowSet ws = make_windows({rec}, PreprocessConfig());
  EXPECT_EQ(ws.size(), static_cast<size_t>(windows_in(30) - 1));
  EXPECT_EQ(ws.dropped.at("window past end of signal"), 1u);
  EXPECT_EQ(ws.dropped.at("non-finite label"), 1u);
  EXPECT_EQ(ws.dropped.at("missing HR"), 2u);
}

TEST(MakeWindows, ChannelCountsAndZeroAccWithoutAccelerometer) {
  const Recording with_acc = tone_recording("a", "s1", 125, 30);
  const Recording no_acc = tone_recording("b", "s2", 125, 30, 1, false);
  PreprocessConfig ppg;
  ppg.inputs = "ppg";
  const WindowSet one = make_windows({with_acc, no_acc}, ppg);
  EXPECT_EQ(one.channels, 1);
  EXPECT_EQ(one.x.size(), one.size() * kL);

  const WindowSet four = make_windows({with_acc, no_acc}, PreprocessConfig());
  EXPECT_EQ(four.channels, 4);
  ASSERT_EQ(four.size(), one.size());
  // PPG channel identical under both configs; acc of the BIDMC-like recording all zeros.
  for (size_t i = 0; i < four.size(); ++i) {
    for (int j = 0; j < kL; ++j) ASSERT_EQ(four.window_ptr(i)[j], one.window_ptr(i)[j]);
    if (four.recording[i] == 1) {
      for (int j = kL; j < 4 * kL; ++j) ASSERT_EQ(four.window_ptr(i)[j], 0.0f);
    }
  }
}

TEST(MakeWindows, PpgChannelSelection) {
  // Channel 0 is sin(w t), channel 1 cos(w t); their mean is sin(w t + pi/4) / sqrt(2).
  const Recording rec = tone_recording("a", "s1", 125, 40, 2);
  const std::pair<std::string, double> cases[] = {{"0", 0}, {"1", kPi / 2}, {"mean", kPi / 4}};
  for (const auto& [channel, phase] : cases) {
    PreprocessConfig cfg;
    cfg.inputs = "ppg";
    cfg.ppg_channel = channel;
    const WindowSet ws = make_windows({rec}, cfg);
    for (size_t i = 2; i + 2 < ws.size(); ++i) {
      EXPECT_LT(max_diff(ws.window_ptr(i), expected_window(kPpgHz, phase, 2.0 * ws.window[i])),
                0.02)
          << channel << " window " << i;
    }
  }
  PreprocessConfig bad;
  bad.ppg_channel = "2";
  try {
    make_windows({rec}, bad);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nowhere/a.mat: PPG channel 2 requested but the recording has 2");
  }
}

TEST(PreprocessSignals, CausalOutputDependsOnlyOnThePast) {
  // Two recordings equal for the first 30 s: causal outputs agree up to the resampler's
  // look-ahead (10 taps at 25 Hz = 0.4 s); zero-phase outputs already differ before 30 s.
  Recording a = tone_recording("a", "s1", 125, 60);
  Recording b = a;
  for (size_t i = 30 * 125; i < b.ppg[0].size(); ++i) b.ppg[0][i] += 20.0f * std::sin(0.05 * i);
  PreprocessConfig causal;
  causal.causal = true;
  const auto ca = preprocess_signals(a, causal), cb = preprocess_signals(b, causal);
  ASSERT_EQ(ca.size(), 4u);
  ASSERT_EQ(ca[0].size(), 60u * 25);
  for (size_t i = 0; i < 29 * 25; ++i) ASSERT_EQ(ca[0][i], cb[0][i]) << i;
  EXPECT_NE(ca[0][31 * 25], cb[0][31 * 25]);
  const auto za = preprocess_signals(a, PreprocessConfig());
  const auto zb = preprocess_signals(b, PreprocessConfig());
  EXPECT_GT(std::fabs(za[0][28 * 25] - zb[0][28 * 25]), 1e-3);
}

TEST(PreprocessSignals, RejectsBadRecordings) {
  Recording rec = tone_recording("a", "s1", 125, 20);
  rec.acc.pop_back();
  EXPECT_THROW(preprocess_signals(rec, PreprocessConfig()), Error);
  Recording odd_rate = tone_recording("b", "s1", 125, 20);
  odd_rate.fs = 125 * std::sqrt(2.0);
  try {
    preprocess_signals(odd_rate, PreprocessConfig());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "/nowhere/b.mat");
  }
}

}  // namespace
}  // namespace ppgkd
