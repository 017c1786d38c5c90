// Accelerometer-aware decoding: the window cadence (host C++ against the edge C, bit for bit, on
// sinusoid and random windows; sinusoids found within 1 BPM; flat acc gives none), the emission
// penalty against a hand-computed 3-class case, depth 0 = today's decoders bit for bit, and a
// motion decoy that every decoder follows without the penalty and leaves with it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "decode/cadence.h"
#include "decode/temporal.h"
#include "ppgkd_cadence.h"

namespace ppgkd {
namespace {

constexpr int kL = 200;
constexpr double kFs = 25.0;

// A (4, L) window: PPG noise; acc axis a = amp[a] sin(2 pi f t + 0.7 a) + noise * N(0, 1).
std::vector<float> acc_window(double f_bpm, const double amp[3], double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(4 * kL);
  for (int n = 0; n < kL; ++n) x[n] = g(rng);
  for (int a = 0; a < 3; ++a)
    for (int n = 0; n < kL; ++n)
      x[(a + 1) * kL + n] = static_cast<float>(
          amp[a] * std::sin(2 * M_PI * f_bpm / 60.0 * n / kFs + 0.7 * a) + noise * g(rng));
  return x;
}

// Host and edge on one window: the same bits (cadence and share), returned.
Cadence both(const std::vector<float>& x, int channels, double min_share) {
  const Cadence host = window_cadence(x.data(), channels, kL, kFs, min_share);
  float bpm = -1, share = -1;
  EXPECT_EQ(PPGKD_OK, ppgkd_cadence_estimate(x.data(), channels, kL, static_cast<float>(kFs),
                                             static_cast<float>(min_share), &bpm, &share));
  EXPECT_EQ(static_cast<double>(bpm), host.bpm);
  EXPECT_EQ(static_cast<double>(share), host.share);
  return host;
}

TEST(Cadence, SinusoidFoundWithinOneBpmHostEqualsEdge) {
  const double one[3] = {0, 1, 0}, three[3] = {0.4, 1.0, 2.5};
  unsigned seed = 1;
  for (double f : {33.0, 48.7, 72.0, 99.9, 128.3, 160.0, 187.5, 208.0}) {
    for (const double* amp : {one, three}) {
      const Cadence c = both(acc_window(f, amp, amp == one ? 0.0 : 0.5, seed++), 4, 0.4);
      EXPECT_NEAR(c.bpm, f, 1.0) << f;
      EXPECT_GT(c.share, 0.7) << f;
    }
  }
}

TEST(Cadence, RandomWindowsHostEqualsEdge) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  int with_cadence = 0;
  for (int i = 0; i < 40; ++i) {
    std::vector<float> x(4 * kL);
    for (auto& v : x) v = g(rng);
    with_cadence += both(x, 4, 0.0).bpm > 0;           // min share 0: every window has a cadence
    EXPECT_EQ(0.0, both(x, 4, kCadenceMinShare).bpm);  // white noise is not prominent
  }
  EXPECT_EQ(40, with_cadence);
}

TEST(Cadence, NoneWhenFlatZeroOrNoAcc) {
  std::vector<float> x(4 * kL, 0.0f);
  EXPECT_EQ(0.0, both(x, 4, 0.0).bpm);  // zero acc (BIDMC)
  EXPECT_EQ(0.0, both(x, 4, 0.0).share);
  for (int i = kL; i < 4 * kL; ++i) x[i] = -2.25f;
  EXPECT_EQ(0.0, both(x, 4, 0.0).bpm);  // constant acc
  const double amp[3] = {1, 1, 1};
  EXPECT_EQ(0.0, both(acc_window(90, amp, 0, 3), 1, 0.0).bpm);  // ppg-only input
  EXPECT_THROW(window_cadence(x.data(), 4, 1, kFs), Error);
  EXPECT_THROW(window_cadence(x.data(), 4, kL, 5.0), Error);
  EXPECT_THROW(window_cadence(x.data(), 4, kL, kFs, 1.5), Error);
  x[3 * kL + 7] = NAN;
  EXPECT_THROW(window_cadence(x.data(), 4, kL, kFs), Error);
}

// The host's double factor against the edge's float one.
TEST(Cadence, FactorHostMatchesEdge) {
  for (bool half : {false, true})
    for (double f : {45.0, 70.5, 123.0})
      for (int c = 0; c < kNumClasses; ++c) {
        const CadencePenalty p{0.8, 3.5, half};
        EXPECT_NEAR(cadence_factor(30.5 + c, f, p),
                    ppgkd_cadence_factor(30.5f + c, static_cast<float>(f), 0.8f, 3.5f, half), 1e-6);
      }
}

// ---------------------------------------------------------------------------- penalty, by hand

// Three classes (centres 30.5, 31.5, 32.5), cadence 31.5 at both steps, depth 0.5, width 1:
// factors q = 1 - 0.5 e^-0.5 for classes 0 and 2, 0.5 for class 1 (the second harmonic 63 is
// far). A = [[0.5, 0.5, 0], [0.25, 0.5, 0.25], [0, 0.5, 0.5]], no floor, p1 = (0.2, 0.6, 0.2),
// p2 = (0.3, 0.4, 0.3):
//   alpha1 = (0.2q, 0.3, 0.2q) / (0.4q + 0.3)
//   pred2 = A^T alpha1 = (0.1q + 0.075, 0.2q + 0.15, 0.1q + 0.075) / (0.4q + 0.3)
//   alpha2 ~ (0.3q (0.1q + 0.075), 0.2 (0.2q + 0.15), 0.3q (0.1q + 0.075))
TEST(CadencePenalty, HandComputedThreeClasses) {
  const Transition tr = transition_from_matrix(3, {0.5, 0.5, 0, 0.25, 0.5, 0.25, 0, 0.5, 0.5});
  const std::vector<double> p = {0.2, 0.6, 0.2, 0.3, 0.4, 0.3};
  DecodeOptions o;
  o.floor = 0;
  o.cadence = {0.5, 1.0, false};
  o.cadence_bpm = {31.5, 31.5};
  const double q = 1 - 0.5 * std::exp(-0.5);
  EXPECT_NEAR(cadence_factor(30.5, 31.5, o.cadence), q, 1e-15);
  EXPECT_DOUBLE_EQ(cadence_factor(31.5, 31.5, o.cadence), 0.5);
  const auto alpha = forward_filter(p, 2, tr, o);
  const double z1 = 0.4 * q + 0.3;
  EXPECT_NEAR(alpha[0], 0.2 * q / z1, 1e-12);
  EXPECT_NEAR(alpha[1], 0.3 / z1, 1e-12);
  const double a0 = 0.3 * q * (0.1 * q + 0.075), a1 = 0.2 * (0.2 * q + 0.15);
  EXPECT_NEAR(alpha[3], a0 / (2 * a0 + a1), 1e-12);
  EXPECT_NEAR(alpha[4], a1 / (2 * a0 + a1), 1e-12);
  // OnlineFilter with the cadence per update gives the same numbers.
  OnlineFilter f(tr, o);
  f.update(p.data(), 31.5);
  EXPECT_NEAR(f.update(p.data() + 3, 31.5)[1], a1 / (2 * a0 + a1), 1e-12);
  // Per window: p1 penalised and renormalised.
  std::vector<double> w(p.begin(), p.begin() + 3);
  penalise_posterior(w.data(), 3, 31.5, o.cadence);
  EXPECT_NEAR(w[1], 0.3 / z1, 1e-15);
  // Viterbi: without the penalty class 1 wins both steps; with it the path is still (1, 1)
  // since 0.3 > 0.2 q = 0.139 at step 1; a deeper penalty flips step 1 to class 0 (ties go low).
  EXPECT_EQ(viterbi(p, 2, tr, o), (std::vector<int>{1, 1}));
  o.cadence.depth = 0.9;
  o.cadence.width_bpm = 0.01;  // only class 1 is hit: 0.6 * 0.1 < 0.2
  EXPECT_EQ(viterbi(p, 2, tr, o), (std::vector<int>{0, 0}));
}

// Random posteriors over 180 classes.
std::vector<double> random_posteriors(int steps, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> p(static_cast<size_t>(steps) * kNumClasses);
  for (int t = 0; t < steps; ++t) {
    double sum = 0;
    for (int j = 0; j < kNumClasses; ++j) sum += p[t * kNumClasses + j] = std::pow(u(rng), 8);
    for (int j = 0; j < kNumClasses; ++j) p[t * kNumClasses + j] /= sum;
  }
  return p;
}

TEST(CadencePenalty, DepthZeroOrNoCadenceIsBitIdentical) {
  const int T = 25;
  const auto p = random_posteriors(T, 11);
  const Transition tr = laplacian_transition(kNumClasses, 0.84);
  DecodeOptions plain;
  plain.temperature = 0.7;
  DecodeOptions zero_depth = plain;
  zero_depth.cadence_bpm.assign(T, 92.5);
  zero_depth.cadence.depth = 0;
  DecodeOptions no_cadence = plain;
  no_cadence.cadence_bpm.assign(T, 0.0);
  no_cadence.cadence.depth = 0.8;
  for (const DecodeOptions* o : {&zero_depth, &no_cadence}) {
    EXPECT_EQ(forward_filter(p, T, tr, plain), forward_filter(p, T, tr, *o));
    EXPECT_EQ(forward_backward(p, T, tr, plain), forward_backward(p, T, tr, *o));
    EXPECT_EQ(viterbi(p, T, tr, plain), viterbi(p, T, tr, *o));
  }
  std::vector<double> w(p.begin(), p.begin() + kNumClasses), w0 = w;
  penalise_posterior(w.data(), kNumClasses, 92.5, zero_depth.cadence);
  EXPECT_EQ(w, w0);
}

TEST(CadencePenalty, RejectsBadParameters) {
  const auto p = random_posteriors(3, 2);
  const Transition tr = flat_transition(kNumClasses);
  DecodeOptions o;
  o.cadence_bpm = {80, 80};  // wrong length
  EXPECT_THROW(forward_filter(p, 3, tr, o), Error);
  o.cadence_bpm = {80, -1, 80};
  EXPECT_THROW(forward_backward(p, 3, tr, o), Error);
  o.cadence_bpm = {80, 80, 80};
  o.cadence.depth = 1.0;
  EXPECT_THROW(viterbi(p, 3, tr, o), Error);
  o.cadence.depth = 0.5;
  o.cadence.width_bpm = 0;
  EXPECT_THROW(OnlineFilter(tr, o), Error);
}

// ---------------------------------------------------------------------------- motion decoy

// True HR 100 + 0.3 t BPM; arm cadence 70 BPM; the network puts 0.6 of its mass on the
// cadence's second harmonic 140, 0.1 on the cadence itself, 0.3 on the truth (as in the edge
// test, edge/tests/test_tracker.c).
double decoy_truth(int t) {
  return 100 + 0.3 * t;
}

std::vector<double> decoy_posteriors(int steps) {
  auto bell = [](double d) {
    const double q = 1 + d * d / 18;
    return 1 / (q * q * q * q);
  };
  std::vector<double> p(static_cast<size_t>(steps) * kNumClasses);
  for (int t = 0; t < steps; ++t) {
    double sum = 0;
    for (int j = 0; j < kNumClasses; ++j) {
      const double c = 30.5 + j;
      sum += p[t * kNumClasses + j] =
          0.3 * bell(c - decoy_truth(t)) + 0.6 * bell(c - 140) + 0.1 * bell(c - 70);
    }
    for (int j = 0; j < kNumClasses; ++j) p[t * kNumClasses + j] /= sum;
  }
  return p;
}

double decode(const double* p) {
  std::vector<float> f(p, p + kNumClasses);
  return decode_bpm(f.data(), kDecodeRadius, nullptr);
}

TEST(CadencePenalty, MotionDecoyRemovedByEveryDecoder) {
  const int T = 30;
  const auto p = decoy_posteriors(T);
  // The cadence of each step from a 70 BPM acc window, as the CLI computes it.
  const double amp[3] = {1.0, 0.6, 0.3};
  std::vector<double> cadence;
  for (int t = 0; t < T; ++t) {
    cadence.push_back(window_cadence(acc_window(70, amp, 0.5, 100 + t).data(), 4, kL, kFs).bpm);
    ASSERT_NEAR(cadence.back(), 70, 1.0);
  }
  const Transition tr = laplacian_transition(kNumClasses, kDefaultTransitionScaleBpm);
  DecodeOptions off;
  DecodeOptions on;
  on.cadence_bpm = cadence;
  on.cadence = {kCadenceDepth, kCadenceWidthBpm, false};
  for (bool penalty : {false, true}) {
    const DecodeOptions& o = penalty ? on : off;
    const auto filt = forward_filter(p, T, tr, o);
    const auto smooth = forward_backward(p, T, tr, o);
    const auto path = viterbi(p, T, tr, o);
    for (int t = 0; t < T; ++t) {
      const double want = penalty ? decoy_truth(t) : 140.0;
      std::vector<double> w(p.begin() + t * kNumClasses, p.begin() + (t + 1) * kNumClasses);
      if (penalty) penalise_posterior(w.data(), kNumClasses, cadence[t], on.cadence);
      EXPECT_NEAR(decode(w.data()), want, 3.0) << "window, step " << t << " penalty " << penalty;
      EXPECT_NEAR(decode(&filt[t * kNumClasses]), want, 3.0) << "filter, step " << t;
      EXPECT_NEAR(decode(&smooth[t * kNumClasses]), want, 3.0) << "smoother, step " << t;
      EXPECT_NEAR(class_center_bpm(path[t]), want, 3.0) << "viterbi, step " << t;
    }
  }
}

}  // namespace
}  // namespace ppgkd
