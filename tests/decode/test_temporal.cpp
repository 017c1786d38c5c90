// Temporal decoding: hand-computed 2-state values, the flat / identity prior limits, recovery of
// a known track from posteriors with injected harmonic errors, the filter = smoother identity at
// the last step, and the fit of the transition scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "decode/temporal.h"

namespace ppgkd {
namespace {

DecodeOptions no_floor() {
  DecodeOptions o;
  o.floor = 0;
  return o;
}

int argmax(const double* p, int s) {
  return static_cast<int>(std::max_element(p, p + s) - p);
}

// ---------------------------------------------------------------------------- hand computed

// A = [[0.9, 0.1], [0.2, 0.8]], uniform start, emissions e1 = (0.6, 0.4), e2 = (0.3, 0.7).
//   alpha1 = (0.6, 0.4); pred2 = A^T alpha1 = (0.62, 0.38); alpha2 = (0.186, 0.266) / 0.452
//   beta1 = A e2 = (0.34, 0.62); gamma1 = (0.204, 0.248) / 0.452
//   Viterbi: delta2(0) = max(0.6*0.9, 0.4*0.2) * 0.3 = 0.162, delta2(1) = max(0.06, 0.32) * 0.7
//   = 0.224 from state 1 -> path (1, 1), although step 1 alone prefers state 0.
TEST(Temporal, HandComputedTwoStates) {
  const Transition tr = transition_from_matrix(2, {0.9, 0.1, 0.2, 0.8});
  const std::vector<double> e = {0.6, 0.4, 0.3, 0.7};
  const auto alpha = forward_filter(e, 2, tr, no_floor());
  EXPECT_NEAR(alpha[0], 0.6, 1e-12);
  EXPECT_NEAR(alpha[1], 0.4, 1e-12);
  EXPECT_NEAR(alpha[2], 0.186 / 0.452, 1e-12);
  EXPECT_NEAR(alpha[3], 0.266 / 0.452, 1e-12);
  const auto gamma = forward_backward(e, 2, tr, no_floor());
  EXPECT_NEAR(gamma[0], 0.204 / 0.452, 1e-12);
  EXPECT_NEAR(gamma[1], 0.248 / 0.452, 1e-12);
  EXPECT_NEAR(gamma[2], 0.186 / 0.452, 1e-12);
  EXPECT_EQ(viterbi(e, 2, tr, no_floor()), (std::vector<int>{1, 1}));
}

// Three states, two steps: the tempered emission (gamma = 2) squares the posterior.
TEST(Temporal, TemperedEmissionThreeStates) {
  const Transition tr = transition_from_matrix(3, {0.5, 0.5, 0, 0.25, 0.5, 0.25, 0, 0.5, 0.5});
  const std::vector<double> p = {0.5, 0.5, 0.0, 0.2, 0.4, 0.4};
  DecodeOptions o = no_floor();
  o.temperature = 2;
  // alpha1 = (0.25, 0.25, 0) / 0.5 = (0.5, 0.5, 0)
  // pred2 = A^T alpha1 = (0.5*0.5 + 0.5*0.25, 0.5*0.5 + 0.5*0.5, 0.5*0.25) = (0.375, 0.5, 0.125)
  // e2 = (0.04, 0.16, 0.16) -> (0.015, 0.08, 0.02) / 0.115
  const auto alpha = forward_filter(p, 2, tr, o);
  EXPECT_NEAR(alpha[3], 0.015 / 0.115, 1e-12);
  EXPECT_NEAR(alpha[4], 0.08 / 0.115, 1e-12);
  EXPECT_NEAR(alpha[5], 0.02 / 0.115, 1e-12);
}

// ---------------------------------------------------------------------------- limits

// Random posteriors over 180 classes, T steps.
std::vector<double> random_posteriors(int steps, unsigned seed) {
  std::vector<double> p(static_cast<size_t>(steps) * kNumClasses);
  unsigned x = seed;
  for (int t = 0; t < steps; ++t) {
    double sum = 0;
    for (int j = 0; j < kNumClasses; ++j) {
      x = x * 1664525u + 1013904223u;
      const double u = (x >> 8) / 16777216.0;
      sum += p[t * kNumClasses + j] = std::pow(u, 8);  // peaky, like a trained network
    }
    for (int j = 0; j < kNumClasses; ++j) p[t * kNumClasses + j] /= sum;
  }
  return p;
}

// The jump mixes the uniform prior in: A' = (1 - j) A + j / S. With j = 0.5 on the two-state A
// above, A' = [[0.7, 0.3], [0.35, 0.65]]; with the same emissions:
//   alpha1 = (0.6, 0.4); pred2 = A'^T alpha1 = (0.42 + 0.14, 0.18 + 0.26) = (0.56, 0.44);
//   alpha2 = (0.168, 0.308) / 0.476; beta1 = A' e2 = (0.42, 0.56); gamma1 = (0.252, 0.224) / 0.476;
//   Viterbi: delta2(0) = max(0.42, 0.14) * 0.3 = 0.126, delta2(1) = max(0.18, 0.26) * 0.7 = 0.182
//   from state 1 -> path (1, 1) again.
TEST(Temporal, JumpMixesInTheUniformPriorByHand) {
  const Transition tr = transition_from_matrix(2, {0.9, 0.1, 0.2, 0.8});
  const Transition mixed = with_jump(tr, 0.5);
  const std::vector<double> want = {0.7, 0.3, 0.35, 0.65};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(mixed.a[i], want[i], 1e-15);
  EXPECT_EQ(with_jump(tr, 0).a, tr.a);
  const std::vector<double> e = {0.6, 0.4, 0.3, 0.7};
  DecodeOptions o = no_floor();
  o.jump = 0.5;
  const auto alpha = forward_filter(e, 2, tr, o);
  EXPECT_NEAR(alpha[2], 0.168 / 0.476, 1e-12);
  EXPECT_NEAR(alpha[3], 0.308 / 0.476, 1e-12);
  const auto gamma = forward_backward(e, 2, tr, o);
  EXPECT_NEAR(gamma[0], 0.252 / 0.476, 1e-12);
  EXPECT_NEAR(gamma[1], 0.224 / 0.476, 1e-12);
  EXPECT_EQ(viterbi(e, 2, tr, o), (std::vector<int>{1, 1}));
  // The online filter one step at a time mixes the same prior in.
  OnlineFilter f(tr, o);
  f.update(e.data());
  const auto& a2 = f.update(e.data() + 2);
  EXPECT_NEAR(a2[0], 0.168 / 0.476, 1e-12);
}

// j = 1 is the flat prior: every step stands alone, whatever the kernel, and a widened step's
// rebuilt prior is mixed too (it stays flat).
TEST(Temporal, FullJumpIsTheFlatPrior) {
  const int T = 12;
  const auto p = random_posteriors(T, 11);
  DecodeOptions o = no_floor();
  o.jump = 1;
  o.kernel = DecodeOptions::Kernel::kLaplacian;
  o.scale = 1.0;
  o.widen.assign(T, 1.0);
  o.widen[5] = 3;
  const Transition tr = laplacian_transition(kNumClasses, 1.0);
  const auto alpha = forward_filter(p, T, tr, o);
  const auto gamma = forward_backward(p, T, tr, o);
  const auto path = viterbi(p, T, tr, o);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < kNumClasses; ++j) {
      EXPECT_NEAR(alpha[t * kNumClasses + j], p[t * kNumClasses + j], 1e-12);
      EXPECT_NEAR(gamma[t * kNumClasses + j], p[t * kNumClasses + j], 1e-12);
    }
    EXPECT_EQ(path[t], argmax(p.data() + t * kNumClasses, kNumClasses));
  }
  for (const double bad : std::vector<double>{-0.1, 1.5, std::nan("")}) {
    EXPECT_THROW(with_jump(tr, bad), Error);
    o.jump = bad;
    EXPECT_THROW(forward_filter(p, T, tr, o), Error);
  }
}

TEST(Temporal, FlatPriorGivesPerWindowEstimates) {
  const int T = 20;
  const auto p = random_posteriors(T, 7);
  const Transition flat = flat_transition(kNumClasses);
  const auto alpha = forward_filter(p, T, flat, no_floor());
  const auto gamma = forward_backward(p, T, flat, no_floor());
  const auto path = viterbi(p, T, flat, no_floor());
  for (int t = 0; t < T; ++t) {
    const double* pt = p.data() + t * kNumClasses;
    for (int j = 0; j < kNumClasses; ++j) {
      EXPECT_NEAR(alpha[t * kNumClasses + j], pt[j], 1e-12);
      EXPECT_NEAR(gamma[t * kNumClasses + j], pt[j], 1e-12);
    }
    EXPECT_EQ(path[t], argmax(pt, kNumClasses));
    // And so the decoded BPM of the marginal is the per-window BPM.
    std::vector<float> a(alpha.begin() + t * kNumClasses, alpha.begin() + (t + 1) * kNumClasses);
    std::vector<float> w(pt, pt + kNumClasses);
    EXPECT_NEAR(decode_bpm(a.data(), kDecodeRadius, nullptr),
                decode_bpm(w.data(), kDecodeRadius, nullptr), 1e-4);
  }
}

TEST(Temporal, IdentityPriorGivesConstantTrack) {
  const int T = 15;
  const auto p = random_posteriors(T, 11);
  const Transition id = identity_transition(kNumClasses);
  const DecodeOptions o;  // default floor keeps every state reachable
  const auto path = viterbi(p, T, id, o);
  const auto gamma = forward_backward(p, T, id, o);
  for (int t = 0; t < T; ++t) {
    EXPECT_EQ(path[t], path[0]);
    EXPECT_EQ(argmax(gamma.data() + t * kNumClasses, kNumClasses), path[0]);
  }
  // The constant state is the one whose product of emissions is largest.
  std::vector<double> logsum(kNumClasses, 0);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < kNumClasses; ++j)
      logsum[j] += std::log((1 - o.floor) * p[t * kNumClasses + j] + o.floor / kNumClasses);
  EXPECT_EQ(path[0], argmax(logsum.data(), kNumClasses));
}

// ---------------------------------------------------------------------------- harmonic errors

// A smooth true track; posteriors put 40% of their mass near the truth and, at every third step,
// 60% on the second harmonic (2x) or the subharmonic (0.5x): per-window argmax is then wrong at
// those steps, but the harmonic jumps are far outside what the transition prior allows.
TEST(Temporal, TrackerRecoversTruthUnderHarmonicErrors) {
  const int T = 60;
  std::vector<double> truth(T);
  for (int t = 0; t < T; ++t) truth[t] = 90 + 25 * std::sin(t / 12.0);
  std::vector<double> p(static_cast<size_t>(T) * kNumClasses);
  auto bump = [&](int t, double bpm, double mass) {
    const int c = bpm_to_class(bpm);
    double z = 0;
    std::vector<double> g(kNumClasses);
    for (int j = 0; j < kNumClasses; ++j) z += g[j] = std::exp(-0.5 * (j - c) * (j - c) / 4.0);
    for (int j = 0; j < kNumClasses; ++j) p[t * kNumClasses + j] += mass * g[j] / z;
  };
  int wrong_argmax = 0;
  for (int t = 0; t < T; ++t) {
    if (t % 3 == 1) {
      bump(t, truth[t], 0.4);
      bump(t, t % 2 ? truth[t] * 2 : truth[t] * 0.5, 0.6);
    } else {
      bump(t, truth[t], 1.0);
    }
    const int c = argmax(p.data() + t * kNumClasses, kNumClasses);
    if (std::fabs(class_center_bpm(c) - truth[t]) > 10) ++wrong_argmax;
  }
  ASSERT_EQ(wrong_argmax, T / 3);  // the injected errors do fool the per-window argmax

  const Transition tr = laplacian_transition(kNumClasses, 2.0);
  // Within 3 BPM of the truth (the smoothers lag a little where the track is steep, ~2 BPM a
  // step); the harmonic modes are 45+ BPM away.
  const double tol = 3.0;
  const auto path = viterbi(p, T, tr);
  const auto gamma = forward_backward(p, T, tr);
  const auto alpha = forward_filter(p, T, tr);
  for (int t = 0; t < T; ++t) {
    EXPECT_NEAR(class_center_bpm(path[t]), truth[t], tol) << "viterbi step " << t;
    EXPECT_NEAR(class_center_bpm(argmax(gamma.data() + t * kNumClasses, kNumClasses)), truth[t],
                tol)
        << "smoother step " << t;
    if (t > 0) {  // the first step has no past to lean on
      EXPECT_NEAR(class_center_bpm(argmax(alpha.data() + t * kNumClasses, kNumClasses)), truth[t],
                  tol)
          << "filter step " << t;
    }
  }
}

// ---------------------------------------------------------------------------- identities

TEST(Temporal, FilterAndSmootherAgreeAtLastStep) {
  const int T = 25;
  const auto p = random_posteriors(T, 3);
  for (const Transition& tr :
       {laplacian_transition(kNumClasses, 3.0), gaussian_transition(kNumClasses, 4.0)}) {
    const auto alpha = forward_filter(p, T, tr);
    const auto gamma = forward_backward(p, T, tr);
    for (int j = 0; j < kNumClasses; ++j)
      EXPECT_NEAR(alpha[(T - 1) * kNumClasses + j], gamma[(T - 1) * kNumClasses + j], 1e-9);
  }
}

TEST(Temporal, OnlineFilterMatchesBatchFilter) {
  const int T = 10;
  const auto p = random_posteriors(T, 5);
  const Transition tr = laplacian_transition(kNumClasses, 2.5);
  const auto alpha = forward_filter(p, T, tr);
  OnlineFilter f(tr, DecodeOptions{});
  for (int t = 0; t < T; ++t) {
    const auto& a = f.update(p.data() + t * kNumClasses);
    for (int j = 0; j < kNumClasses; ++j) EXPECT_EQ(a[j], alpha[t * kNumClasses + j]);
  }
}

TEST(Temporal, LaplacianKernelRatios) {
  const double b = 3.0;
  const Transition tr = laplacian_transition(kNumClasses, b);
  const int i = 90;  // far from the ends: no truncation
  EXPECT_NEAR(tr.at(i, i + 1) / tr.at(i, i), std::exp(-1 / b), 1e-12);
  EXPECT_NEAR(tr.at(i, i - 4) / tr.at(i, i), std::exp(-4 / b), 1e-12);
  // Closed-form normaliser of the two-sided geometric series: (1 + r) / (1 - r), r = e^{-1/b}
  // (the tail beyond +-90 classes is below 1e-12 here).
  const double r = std::exp(-1 / b);
  EXPECT_NEAR(tr.at(i, i), (1 - r) / (1 + r), 1e-12);
  // A widened step (factor 2) behaves as scale 2b.
  const Transition wide = laplacian_transition(kNumClasses, 2 * b);
  EXPECT_NEAR(wide.at(i, i + 1) / wide.at(i, i), std::exp(-1 / (2 * b)), 1e-12);
}

TEST(Temporal, WideningChangesOnlyTheWidenedStep) {
  const int T = 4;
  const auto p = random_posteriors(T, 9);
  const double b = 1.5;
  DecodeOptions o;
  o.kernel = DecodeOptions::Kernel::kLaplacian;
  o.scale = b;
  o.widen = {1, 1, 3, 1};
  const auto widened = forward_filter(p, T, laplacian_transition(kNumClasses, b), o);
  const auto plain = forward_filter(p, T, laplacian_transition(kNumClasses, b));
  for (int j = 0; j < kNumClasses; ++j) EXPECT_EQ(widened[kNumClasses + j], plain[kNumClasses + j]);
  // Step 2 must equal one step of the scale-3b prior from step 1's marginal.
  std::vector<double> pred(kNumClasses, 0), want(kNumClasses);
  const Transition t3 = laplacian_transition(kNumClasses, 3 * b);
  for (int i = 0; i < kNumClasses; ++i)
    for (int j = 0; j < kNumClasses; ++j) pred[j] += plain[kNumClasses + i] * t3.at(i, j);
  double z = 0;
  for (int j = 0; j < kNumClasses; ++j)
    z += want[j] = pred[j] * ((1 - o.floor) * p[2 * kNumClasses + j] + o.floor / kNumClasses);
  for (int j = 0; j < kNumClasses; ++j)
    EXPECT_NEAR(widened[2 * kNumClasses + j], want[j] / z, 1e-12);
}

// ---------------------------------------------------------------------------- fit and errors

TEST(Temporal, FitLaplacianScaleFromLabels) {
  // Recording 0: 60, 62, 61, 61, 65 on windows 0..4 -> |d| = 2, 1, 0, 4.
  // Recording 0 continues after a gap (window 7: 90, window 8: 91) -> one more pair, |d| = 1.
  // Recording 1: 100 then 130 on windows 0, 1 -> |d| = 30. Mean = 38 / 6.
  const std::vector<int> rec = {0, 0, 0, 0, 0, 0, 0, 1, 1};
  const std::vector<int> win = {0, 1, 2, 3, 4, 7, 8, 0, 1};
  const std::vector<double> hr = {60, 62, 61, 61, 65, 90, 91, 100, 130};
  EXPECT_NEAR(fit_laplacian_scale(rec, win, hr), 38.0 / 6.0, 1e-12);
  // Constant labels: floored.
  EXPECT_EQ(fit_laplacian_scale({0, 0}, {0, 1}, {70, 70}), kMinScaleBpm);
  try {
    fit_laplacian_scale({0, 1}, {0, 0}, {70, 71});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transition prior: no consecutive labelled windows to fit from");
  }
}

TEST(Temporal, ErrorsAreExact) {
  try {
    transition_from_matrix(2, {0.5, 0.4, 0.5, 0.5});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "temporal decoding: transition row 0 sums to 0.9, not 1");
  }
  try {
    forward_filter({1, 0, 0, 1}, 2, identity_transition(2), no_floor());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "temporal decoding: step 1: the evidence has no mass where the transition prior "
                 "allows the state to be");
  }
  try {
    laplacian_transition(kNumClasses, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "temporal decoding: laplacian scale must be positive and finite (got 0)");
  }
  try {
    forward_backward({0.5, 0.5}, 2, flat_transition(2));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "temporal decoding: posteriors have 2 entries, expected 2 steps x 2 states");
  }
}

}  // namespace
}  // namespace ppgkd
