// Tests of src/data/dsp: resampler, Butterworth filters, class map, standardisation. Expected
// values come from closed forms (tone amplitudes fitted by least squares, the analog Butterworth
// magnitude with pre-warping) or hand computations, never from the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/dsp/filter.h"
#include "data/dsp/resample.h"
#include "data/dsp/standardise.h"

namespace ppgkd {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> tone(double f_hz, double fs, double seconds, double phase = 0.0) {
  std::vector<float> x(static_cast<size_t>(std::lround(seconds * fs)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(2 * kPi * f_hz * i / fs + phase);
  return x;
}

// Amplitude of the f_hz component of y over [from, to) by a least-squares fit of a cos + b sin
// (+ c); independent of the code under test.
double fitted_amplitude(const std::vector<float>& y, double f_hz, double fs, size_t from,
                        size_t to) {
  // Normal equations of the 3-parameter linear fit, solved by Cramer's rule.
  double s[3][3] = {}, r[3] = {};
  for (size_t i = from; i < to; ++i) {
    const double w = 2 * kPi * f_hz * i / fs;
    const double v[3] = {std::cos(w), std::sin(w), 1.0};
    for (int a = 0; a < 3; ++a) {
      r[a] += v[a] * y[i];
      for (int b = 0; b < 3; ++b) s[a][b] += v[a] * v[b];
    }
  }
  auto det3 = [](double m[3][3]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  };
  const double d = det3(s);
  double coef[2];
  for (int k = 0; k < 2; ++k) {
    double m[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) m[a][b] = (b == k) ? r[a] : s[a][b];
    coef[k] = det3(m) / d;
  }
  return std::hypot(coef[0], coef[1]);
}

double db(double gain) {
  return 20 * std::log10(gain);
}

// ---------------------------------------------------------------------------- resampling

// Gain in dB of a unit tone at f_hz sampled at fs_in after resampling to fs_out, measured at the
// frequency the tone lands on at fs_out (its alias when above fs_out / 2), 5 s away from the edges.
double resampled_tone_db(double f_hz, double fs_in, double fs_out) {
  const std::vector<float> y = resample(tone(f_hz, fs_in, 60), fs_in, fs_out);
  double f_out = std::fmod(f_hz, fs_out);
  if (f_out > fs_out / 2) f_out = fs_out - f_out;
  const size_t edge = static_cast<size_t>(5 * fs_out);
  return db(fitted_amplitude(y, f_out, fs_out, edge, y.size() - edge));
}

TEST(Resample, PassbandToneKeepsItsAmplitude) {
  EXPECT_NEAR(resampled_tone_db(2.0, 125, 25), 0.0, 0.5);
  EXPECT_NEAR(resampled_tone_db(2.0, 50, 25), 0.0, 0.5);
  EXPECT_NEAR(resampled_tone_db(2.0, 64, 25), 0.0, 0.5);
  EXPECT_NEAR(resampled_tone_db(2.0, 25, 125), 0.0, 0.5);
  // Kaiser beta = 5 leaves passband ripple of a few thousandths of a dB well below cut-off.
  EXPECT_NEAR(resampled_tone_db(2.0, 125, 25), 0.0, 0.02);
}

TEST(Resample, ToneAboveNewNyquistIsRemoved) {
  // 20 Hz would alias to 5 Hz at 25 Hz; the anti-aliasing filter must remove it.
  EXPECT_LT(resampled_tone_db(20.0, 125, 25), -40.0);
  EXPECT_LT(resampled_tone_db(20.0, 50, 25), -40.0);
  EXPECT_LT(resampled_tone_db(20.0, 64, 25), -40.0);
}

TEST(Resample, OutputLengthIsCeilOfNTimesPOverQ) {
  EXPECT_EQ(resample(std::vector<float>(1000), 125, 25).size(), 200u);
  EXPECT_EQ(resample(std::vector<float>(1001), 125, 25).size(), 201u);  // ceil(200.2)
  EXPECT_EQ(resample(std::vector<float>(7), 25, 64).size(), 18u);       // ceil(17.92)
  EXPECT_EQ(resample(std::vector<float>(37501), 50, 25).size(), 18751u);
  EXPECT_EQ(resample(std::vector<float>(0), 125, 25).size(), 0u);
  EXPECT_EQ(resample(std::vector<float>(3), 125, 25).size(), 1u);
}

TEST(Resample, SameRateIsIdentity) {
  const std::vector<float> x = tone(1.7, 25, 10, 0.3);
  EXPECT_EQ(resample(x, 25, 25), x);
  EXPECT_EQ(resample_poly(x, 3, 3), x);
}

TEST(Resample, OutputSampleSitsAtInputTimeIQOverP) {
  // A tone well inside the passband: output sample i must equal the tone at time i / fs_out.
  const double f = 1.3, phase = 0.7;
  const double rates[][2] = {{125, 25}, {50, 25}, {64, 25}, {25, 125}, {25, 40}};
  for (const auto& r : rates) {
    const std::vector<float> y = resample(tone(f, r[0], 60, phase), r[0], r[1]);
    const size_t edge = static_cast<size_t>(5 * r[1]);
    double worst = 0;
    for (size_t i = edge; i + edge < y.size(); ++i) {
      worst = std::max(worst, std::fabs(y[i] - std::sin(2 * kPi * f * i / r[1] + phase)));
    }
    EXPECT_LT(worst, 5e-3) << r[0] << " -> " << r[1] << " Hz";
  }
}

TEST(Resample, ConstantStaysConstantAwayFromEdges) {
  // Each polyphase branch must have unit DC gain, or a constant input would ripple at fs_in / p.
  const std::vector<float> y = resample(std::vector<float>(2000, 3.0f), 25, 64);
  for (size_t i = 200; i + 200 < y.size(); ++i) ASSERT_NEAR(y[i], 3.0, 3e-3) << i;
}

TEST(Resample, HoldEdgesKeepAConstantConstantToTheEnds) {
  const std::vector<float> x(500, 1000.0f);
  for (const auto& r : {std::pair{125.0, 25.0}, {50.0, 25.0}, {25.0, 64.0}}) {
    const std::vector<float> held = resample(x, r.first, r.second, ResampleEdge::kHold);
    for (float v : held) ASSERT_NEAR(v, 1000.0, 1.0) << r.first << " -> " << r.second;
  }
  // With zero padding, the first output of a decimation by q sees the centre tap (about 1/q of
  // the unit DC gain) and half of the rest: (1 + 1/q) / 2 of the value.
  for (const int q : {2, 5}) {
    const std::vector<float> zero = resample_poly(x, 1, q);
    EXPECT_NEAR(zero.front(), 1000.0 * (1 + 1.0 / q) / 2, 10.0) << q;
  }
}

TEST(Resample, RejectsBadRatios) {
  auto message = [](double a, double b) {
    try {
      resample(std::vector<float>(10), a, b);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(0, 25),
            "resample: sampling rates must be positive and finite (got 0 -> 25 Hz)");
  EXPECT_EQ(message(125, -25),
            "resample: sampling rates must be positive and finite (got 125 -> -25 Hz)");
  EXPECT_EQ(message(NAN, 25),
            "resample: sampling rates must be positive and finite (got nan -> 25 Hz)");
  EXPECT_EQ(message(100, 100 * std::sqrt(2.0)),
            "resample: cannot resample 100 Hz to 141.4213562373095 Hz: the ratio is not p/q with "
            "p, q <= 1000");
  EXPECT_EQ(message(1, 1001),
            "resample: cannot resample 1 Hz to 1001 Hz: the ratio is not p/q "
            "with p, q <= 1000");
  EXPECT_THROW(resample_poly(std::vector<float>(10), 0, 1), Error);
  int p = 0, q = 0;
  rational_ratio(64, 25, &p, &q);
  EXPECT_EQ(p, 25);
  EXPECT_EQ(q, 64);
  rational_ratio(125, 25, &p, &q);
  EXPECT_EQ(p, 1);
  EXPECT_EQ(q, 5);
}

// ---------------------------------------------------------------------------- Butterworth

// Closed-form |H| of a digital Butterworth designed by the bilinear transform: the analog
// magnitude at the pre-warped frequency W(f) = tan(pi f / fs).
double warp(double f, double fs) {
  return std::tan(kPi * f / fs);
}
double bandpass_gain(int n, double lo, double hi, double f, double fs) {
  const double w = warp(f, fs), w1 = warp(lo, fs), w2 = warp(hi, fs);
  const double x = (w * w - w1 * w2) / (w * (w2 - w1));
  return 1 / std::sqrt(1 + std::pow(x * x, n));
}
double highpass_gain(int n, double fc, double f, double fs) {
  const double x = warp(fc, fs) / warp(f, fs);
  return 1 / std::sqrt(1 + std::pow(x * x, n));
}

TEST(Butterworth, BandpassMatchesClosedFormMagnitude) {
  const double fs = 25;
  for (int order = 1; order <= 4; ++order) {
    const Sos sos = butter_bandpass(order, 0.5, 4.0, fs);
    EXPECT_EQ(sos.size(), static_cast<size_t>(order));
    for (double f = 0.01; f < fs / 2; f *= 1.1) {
      EXPECT_NEAR(db(sos_gain(sos, f, fs)), db(bandpass_gain(order, 0.5, 4.0, f, fs)), 1e-6)
          << "order " << order << " f " << f;
    }
  }
}

TEST(Butterworth, BandpassDefaultHasUnitPeakHalfPowerEdgesAndStopbands) {
  const double fs = 25;
  const Sos sos = butter_bandpass(2, 0.5, 4.0, fs);
  double peak = 0;
  for (double f = 0.4; f < 5; f += 0.001) peak = std::max(peak, sos_gain(sos, f, fs));
  EXPECT_NEAR(db(peak), 0.0, 0.01);
  const double centre = fs / kPi * std::atan(std::sqrt(warp(0.5, fs) * warp(4.0, fs)));
  EXPECT_NEAR(db(sos_gain(sos, centre, fs)), 0.0, 0.1);
  EXPECT_NEAR(db(sos_gain(sos, 0.5, fs)), -3.0103, 0.01);  // 10 log10(1/2)
  EXPECT_NEAR(db(sos_gain(sos, 4.0, fs)), -3.0103, 0.01);
  EXPECT_LT(db(sos_gain(sos, 0.05, fs)), -40.0);
  EXPECT_LT(db(sos_gain(sos, 10.0, fs)), -30.0);
}

TEST(Butterworth, HighpassMatchesClosedFormMagnitude) {
  const double fs = 25;
  for (int order = 1; order <= 3; ++order) {
    const Sos sos = butter_highpass(order, 0.3, fs);
    EXPECT_EQ(sos.size(), static_cast<size_t>((order + 1) / 2));
    EXPECT_NEAR(db(sos_gain(sos, 0.3, fs)), -3.0103, 0.01);
    for (double f = 0.01; f < fs / 2; f *= 1.1) {
      EXPECT_NEAR(db(sos_gain(sos, f, fs)), db(highpass_gain(order, 0.3, f, fs)), 1e-6)
          << "order " << order << " f " << f;
    }
  }
}

TEST(Butterworth, FilteredToneHasTheDesignedGain) {
  // Measures the gain by filtering, so sos_gain is not the only judge of the sections.
  const double fs = 25;
  const Sos sos = butter_bandpass(2, 0.5, 4.0, fs);
  for (double f : {0.3, 1.5, 5.0}) {
    SosFilter filt(sos);
    const std::vector<float> y = filt.apply(tone(f, fs, 120));
    const double measured = fitted_amplitude(y, f, fs, 30 * 25, y.size());
    EXPECT_NEAR(db(measured), db(bandpass_gain(2, 0.5, 4.0, f, fs)), 0.01) << f;
  }
}

TEST(Butterworth, RejectsBadDesigns) {
  auto message = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { butter_bandpass(2, 4.0, 0.5, 25); }),
            "butterworth: low edge 4 Hz must be below high edge 0.5 Hz");
  EXPECT_EQ(message([] { butter_bandpass(2, 0.5, 13.0, 25); }),
            "butterworth: high edge 13 Hz is not inside (0, fs/2) = (0, 12.5) Hz");
  EXPECT_EQ(message([] { butter_highpass(0, 0.3, 25); }),
            "butterworth: order must be in [1, 10] (got 0)");
  EXPECT_EQ(message([] { butter_highpass(2, 0.3, 0); }),
            "butterworth: sampling rate must be positive (got 0 Hz)");
}

TEST(SosFilter, ChunkedFilteringEqualsOneShot) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> x(5000);
  for (float& v : x) v = noise(rng);
  const Sos sos = butter_bandpass(2, 0.5, 4.0, 25);
  SosFilter whole(sos);
  const std::vector<float> expected = whole.apply(x);
  SosFilter chunked(sos);
  std::vector<float> got;
  size_t pos = 0, chunk = 1;
  while (pos < x.size()) {
    const size_t n = std::min(chunk, x.size() - pos);
    std::vector<float> part(x.begin() + pos, x.begin() + pos + n);
    for (float v : chunked.apply(part)) got.push_back(v);
    pos += n;
    chunk = chunk * 3 % 97 + 1;  // uneven chunk sizes, including 1
  }
  EXPECT_EQ(got, expected);  // bit-exact: same operations in the same order
}

TEST(SosFilter, ResetAndPrime) {
  const Sos hp = butter_highpass(2, 0.3, 25);
  SosFilter f(hp);
  f.prime(1000.0f);  // steady state under a constant: a high-pass outputs 0 from the first sample
  for (int i = 0; i < 100; ++i) ASSERT_NEAR(f.step(1000.0f), 0.0, 1e-6);
  f.reset();  // from rest, the first output is the input times every section's b0
  double b0s = 1;
  for (const Biquad& s : hp) b0s *= s.b0;
  EXPECT_NEAR(f.step(1000.0f), 1000.0 * b0s, 1e-3);
}

TEST(Filtfilt, ZeroPhaseAndSquaredMagnitude) {
  const double fs = 25;
  const Sos sos = butter_bandpass(2, 0.5, 4.0, fs);
  for (double f : {0.7, 1.5, 3.0}) {
    const std::vector<float> x = tone(f, fs, 120, 0.4);
    const std::vector<float> y = filtfilt(sos, x);
    ASSERT_EQ(y.size(), x.size());
    const double g2 = std::pow(bandpass_gain(2, 0.5, 4.0, f, fs), 2);
    // Away from the ends, y is x scaled by |H|^2 with no shift: compare sample by sample.
    double worst = 0;
    for (size_t i = 20 * 25; i + 20 * 25 < x.size(); ++i) {
      worst = std::max(worst, std::fabs(y[i] - g2 * x[i]));
    }
    EXPECT_LT(worst, 1e-3) << f;
  }
}

TEST(Filtfilt, ShortAndEmptySignals) {
  const Sos sos = butter_bandpass(2, 0.5, 4.0, 25);
  EXPECT_TRUE(filtfilt(sos, {}).empty());
  EXPECT_EQ(filtfilt(sos, {1.0f, 2.0f, 3.0f}).size(), 3u);
  // A constant is removed entirely by a band-pass (steady-state start, odd extension).
  for (float v : filtfilt(sos, std::vector<float>(300, 5.0f))) ASSERT_NEAR(v, 0.0, 1e-4);
}

// ---------------------------------------------------------------------------- class map

TEST(ClassMap, BpmToClassEdges) {
  EXPECT_EQ(bpm_to_class(29.9), 0);  // clamped
  EXPECT_EQ(bpm_to_class(30.0), 0);
  EXPECT_EQ(bpm_to_class(30.99), 0);
  EXPECT_EQ(bpm_to_class(31.0), 1);
  EXPECT_EQ(bpm_to_class(72.4), 42);
  EXPECT_EQ(bpm_to_class(209.99), 179);
  EXPECT_EQ(bpm_to_class(210.0), 179);  // clamped
  EXPECT_EQ(bpm_to_class(250.0), 179);
  EXPECT_EQ(bpm_to_class(-5.0), 0);
  EXPECT_THROW(bpm_to_class(NAN), Error);
}

TEST(ClassMap, ClassCentres) {
  EXPECT_DOUBLE_EQ(class_center_bpm(0), 30.5);
  EXPECT_DOUBLE_EQ(class_center_bpm(40), 70.5);
  EXPECT_DOUBLE_EQ(class_center_bpm(179), 209.5);
}

TEST(ClassMap, DecodeWeightedMeanNearArgmax) {
  std::vector<float> p(kNumClasses, 0.0f);
  p[40] = 0.6f;
  p[41] = 0.4f;
  double conf = 0;
  EXPECT_NEAR(decode_bpm(p.data(), 10, &conf), 0.6 * 70.5 + 0.4 * 71.5, 1e-5);  // 70.9
  EXPECT_NEAR(conf, 1.0, 1e-6);
  EXPECT_NEAR(decode_bpm(p.data(), 0, &conf), 70.5, 1e-9);
  EXPECT_NEAR(conf, 0.6, 1e-6);

  // Mass outside the radius is ignored: (0.5 * 70.5 + 0.3 * 71.5) / 0.8 = 70.875.
  p[41] = 0.3f;
  p[40] = 0.5f;
  p[100] = 0.2f;
  EXPECT_NEAR(decode_bpm(p.data(), 10, &conf), 70.875, 1e-5);
  EXPECT_NEAR(conf, 0.8, 1e-6);

  // At the low end the window is cut: 0.7 * 30.5 + 0.3 * 31.5 = 30.8.
  std::vector<float> q(kNumClasses, 0.0f);
  q[0] = 0.7f;
  q[1] = 0.3f;
  EXPECT_NEAR(decode_bpm(q.data(), 10, nullptr), 30.8, 1e-5);
  EXPECT_THROW(decode_bpm(q.data(), -1, nullptr), Error);
}

// smooth_posterior against its closed form: a one-hot posterior becomes the kernel itself,
// s(k + d) / s(k) = exp(-d^2 / (2 sigma^2)) for |d| <= ceil(3 sigma) and 0 beyond, summing to 1
// away from the ends of the range; at class 0 the half beyond the range is dropped.
TEST(ClassMap, SmoothingAOneHotGivesTheGaussianKernel) {
  for (const double sigma : {1.5, 3.0}) {
    const int r = static_cast<int>(std::ceil(3 * sigma));
    std::vector<float> p(kNumClasses, 0.0f);
    p[90] = 1.0f;
    smooth_posterior(p.data(), sigma);
    double sum = 0;
    for (float v : p) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-6) << sigma;
    for (int d = 1; d <= r; ++d) {
      EXPECT_NEAR(p[90 + d] / p[90], std::exp(-d * d / (2 * sigma * sigma)), 1e-6) << d;
      EXPECT_EQ(p[90 + d], p[90 - d]) << d;
    }
    EXPECT_EQ(p[90 + r + 1], 0.0f);
    EXPECT_EQ(p[90 - r - 1], 0.0f);

    std::vector<float> q(kNumClasses, 0.0f);
    q[0] = 1.0f;
    smooth_posterior(q.data(), sigma);
    double kept = 0, z = 1;  // z: the kernel's full sum, in units of its centre tap
    for (int d = 1; d <= r; ++d) z += 2 * std::exp(-d * d / (2 * sigma * sigma));
    for (float v : q) kept += v;
    EXPECT_NEAR(kept, (1 + (z - 1) / 2) / z, 1e-6) << sigma;
  }
  std::vector<float> p(kNumClasses, 1.0f / kNumClasses);
  const std::vector<float> before = p;
  smooth_posterior(p.data(), 0);
  EXPECT_EQ(p, before);
  EXPECT_THROW(smooth_posterior(p.data(), -1), Error);
  EXPECT_THROW(smooth_posterior(p.data(), NAN), Error);
  EXPECT_THROW(smooth_posterior(p.data(), 31), Error);
}

// The tallest bin loses to a wider mode once smoothed: a spike of 5/12 at class 40 against seven
// classes of 1/12 at 97..103. Raw, the spike wins (decode_bpm gives class 40's centre). Smoothed
// with sigma 3 its peak is 5/12 w(0) and the wide mode's (1/12) sum_{|d|<=3} w(d) = 5.71/12 w(0),
// so the wide mode wins; it is symmetric about class 100 and the spike is beyond the window, so
// the decode is class 100's centre, 130.5, exactly up to rounding. sigma 0 is decode_bpm.
TEST(ClassMap, DecodePosteriorPicksTheModeWithTheMostMassNearIt) {
  std::vector<float> p(kNumClasses, 0.0f);
  p[40] = 5.0f / 12;
  for (int c = 97; c <= 103; ++c) p[c] = 1.0f / 12;
  double conf = 0;
  EXPECT_NEAR(decode_bpm(p.data(), 10, &conf), 70.5, 1e-9);
  EXPECT_NEAR(decode_posterior_bpm(p.data(), 10, nullptr, 0), 70.5, 1e-9);
  EXPECT_NEAR(decode_posterior_bpm(p.data(), 10, &conf), 130.5, 1e-4);
  // The window 90..110 keeps the wide mode's smoothed mass except the taps beyond it: class k
  // loses w(d) for k + d < 90 or > 110 (|d| <= 9): 97 loses d = -8, -9, 98 loses -9, 102 loses
  // 9 and 103 loses 8, 9.
  double z = 1;
  for (int d = 1; d <= 9; ++d) z += 2 * std::exp(-d * d / 18.0);
  const double lost = (2 * std::exp(-64 / 18.0) + 4 * std::exp(-81 / 18.0)) / z;
  EXPECT_NEAR(conf, (7 - lost) / 12, 1e-6);
  EXPECT_EQ(kPosteriorSmoothBpm, 3.0);
}

// ---------------------------------------------------------------------------- standardise

TEST(Standardise, ZeroMeanUnitPopulationVariance) {
  float x[] = {1, 2, 3, 4};  // mean 2.5, population variance 1.25
  standardise(x, 4);
  const double sd = std::sqrt(1.25);
  EXPECT_NEAR(x[0], -1.5 / sd, 1e-6);
  EXPECT_NEAR(x[1], -0.5 / sd, 1e-6);
  EXPECT_NEAR(x[2], 0.5 / sd, 1e-6);
  EXPECT_NEAR(x[3], 1.5 / sd, 1e-6);
}

TEST(Standardise, LargeOffsetKeepsPrecision) {
  float x[] = {100000.0f, 100002.0f};  // mean 100001, sd 1
  standardise(x, 2);
  EXPECT_FLOAT_EQ(x[0], -1.0f);
  EXPECT_FLOAT_EQ(x[1], 1.0f);
}

TEST(Standardise, FlatChannelBecomesZeros) {
  float x[] = {5, 5, 5};
  standardise(x, 3);
  for (float v : x) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace ppgkd
