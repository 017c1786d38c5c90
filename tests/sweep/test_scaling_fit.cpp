// Scaling-law fits against independent facts: exact data from known coefficients, R^2 by hand,
// the least-squares line by hand, bootstrap coverage on noisy data, zero extrapolation error on
// exact data, the identity exp(-b log10 N) = N^(-b / ln 10), the reference-size form
// (E_ref = the law at the geometric-mean size), the pure power law by hand, and the conditioning
// verdict on a curve that determines its exponent and on one that cannot.
#include <cmath>
#include <random>

#include "analysis/scaling_fit.h"
#include "common/error.h"
#include "test_util.h"

namespace ppgkd {
namespace {

constexpr double kA = 20.0, kB = 0.4, kC = 3.0;  // truth for the power law

std::vector<double> sizes() {
  std::vector<double> n;
  for (double e = 3.0; e <= 7.0; e += 0.5) n.push_back(std::pow(10.0, e));
  return n;
}

TEST(ScalingFit, PowerLawRecoversExactCoefficients) {
  std::vector<double> n = sizes(), y;
  for (double v : n) y.push_back(kA * std::pow(v, -kB) + kC);
  const auto f = fit_law(ScalingLaw::kPower, n, y);
  EXPECT_NEAR(f.a, kA, 1e-6 * kA);
  EXPECT_NEAR(f.b, kB, 1e-6);
  EXPECT_NEAR(f.c, kC, 1e-6);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  EXPECT_EQ(f.points, n.size());
}

TEST(ScalingFit, ExpLog10RecoversItsCoefficientsAndIsThePowerLaw) {
  // y = a exp(-b log10 N) + c with b = 0.9 is the power law with exponent 0.9 / ln 10.
  const double b = 0.9;
  std::vector<double> n = sizes(), y;
  for (double v : n) y.push_back(kA * std::exp(-b * std::log10(v)) + kC);
  const auto e = fit_law(ScalingLaw::kExpLog10, n, y);
  EXPECT_NEAR(e.a, kA, 1e-6 * kA);
  EXPECT_NEAR(e.b, b, 1e-6);
  EXPECT_NEAR(e.c, kC, 1e-6);
  const auto p = fit_law(ScalingLaw::kPower, n, y);
  EXPECT_NEAR(p.b, b / std::log(10.0), 1e-6);
  EXPECT_NEAR(p.a, kA, 1e-6 * kA);
}

TEST(ScalingFit, LogLinearMatchesTheHandComputedLine) {
  // x = log10 N = 1, 2, 3; y = 5, 3, 2: slope -3/2, intercept 19/3 (hand: Sxy = -3, Sxx = 2).
  const auto f = fit_law(ScalingLaw::kLogLinear, {10, 100, 1000}, {5, 3, 2});
  EXPECT_NEAR(f.b, 1.5, 1e-12);
  EXPECT_NEAR(f.a, 19.0 / 3.0, 1e-12);
  // Residuals 1/6, -1/3, 1/6: RSS = 1/6; total SS = 14/3; R^2 = 1 - (1/6)/(14/3) = 27/28.
  EXPECT_NEAR(f.rss, 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(f.r2, 27.0 / 28.0, 1e-12);
}

TEST(ScalingFit, RSquaredByHand) {
  // SS_res = 1, SS_tot = 2 (mean 2).
  EXPECT_DOUBLE_EQ(r_squared({1, 2, 3}, {1, 2, 4}), 0.5);
  EXPECT_DOUBLE_EQ(r_squared({1, 2, 3}, {1, 2, 3}), 1.0);
  EXPECT_TRUE(std::isnan(r_squared({2, 2, 2}, {1, 2, 3})));
}

TEST(ScalingFit, QuantileInterpolates) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 1.0), 4.0);
}

TEST(ScalingFit, TooFewSizesIsAnError) {
  try {
    fit_law(ScalingLaw::kPower, {10, 10, 100}, {3, 3, 2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "scaling fit: power needs at least 3 distinct sizes, got 2");
  }
}

TEST(ScalingFit, ExtrapolationErrorIsZeroOnExactData) {
  std::vector<SizeSubjects> s;
  for (double n : sizes()) {
    const double law = kA * std::pow(n, -kB) + kC;
    s.push_back({n, {{"s1", law - 0.5}, {"s2", law + 0.5}}});  // subject mean = law
  }
  for (auto law : {ScalingLaw::kPower, ScalingLaw::kExpLog10}) {
    const auto a = analyse_law(law, s, 50, 1);
    ASSERT_TRUE(a.extrapolation_ok);
    EXPECT_DOUBLE_EQ(a.extrapolated_n, 1e7);
    EXPECT_NEAR(a.extrapolation_err, 0.0, 1e-6);
    EXPECT_NEAR(a.extrapolated_obs, kA * std::pow(1e7, -kB) + kC, 1e-9);
  }
}

TEST(ScalingFit, BootstrapIntervalsContainTheTruthOnNoisyData) {
  // 30 subjects, each with a persistent offset (a subject is harder or easier at every size)
  // plus independent noise; the truth is the law of the population mean.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> subject_sd(0.0, 1.0), noise(0.0, 0.3);
  std::vector<double> offset;
  for (int i = 0; i < 30; ++i) offset.push_back(subject_sd(rng));
  double mean_off = 0;
  for (double o : offset) mean_off += o / offset.size();
  for (double& o : offset) o -= mean_off;  // the subject population's mean is the law itself
  std::vector<SizeSubjects> s;
  for (double n : sizes()) {
    SizeSubjects z{n, {}};
    for (int i = 0; i < 30; ++i)
      z.subject_mae["s" + std::to_string(i)] = kA * std::pow(n, -kB) + kC + offset[i] + noise(rng);
    s.push_back(z);
  }
  const auto a = analyse_law(ScalingLaw::kPower, s, 400, 11);
  EXPECT_GT(a.boot_ok, 390u);
  EXPECT_LE(a.b_ci.lo, kB);
  EXPECT_GE(a.b_ci.hi, kB);
  EXPECT_LE(a.c_ci.lo, kC);
  EXPECT_GE(a.c_ci.hi, kC);
  EXPECT_LE(a.a_ci.lo, kA);
  EXPECT_GE(a.a_ci.hi, kA);
  const auto p = a.prediction_ci(1e5);
  const double truth = kA * std::pow(1e5, -kB) + kC;
  EXPECT_LE(p.lo, truth);
  EXPECT_GE(p.hi, truth);
  // The intervals are informative, not the whole real line.
  EXPECT_LT(a.b_ci.hi - a.b_ci.lo, 0.5);
}

TEST(ScalingFit, ReferenceSizeFormRecoversTheLawAtTheGeometricMeanSize) {
  // Sizes 1e3 .. 1e7: the mean of log10 N is 5, so N_ref = 1e5 and E_ref = 20 * 1e5^-0.4 + 3
  // = 20 * 0.01 + 3 = 3.2 (1e5^-0.4 = 10^-2).
  std::vector<double> n = sizes(), y;
  for (double v : n) y.push_back(kA * std::pow(v, -kB) + kC);
  for (auto law : {ScalingLaw::kPower, ScalingLaw::kExpLog10}) {
    const auto f = fit_law(law, n, y);
    EXPECT_NEAR(f.n_ref, 1e5, 1e-6);
    EXPECT_NEAR(f.e_ref, 3.2, 1e-9);
  }
  // Log-linear by hand (LogLinearMatchesTheHandComputedLine): N_ref = 100, E_ref = 19/3 - 1.5 * 2
  // = 10/3, the mean of 5, 3, 2.
  const auto l = fit_law(ScalingLaw::kLogLinear, {10, 100, 1000}, {5, 3, 2});
  EXPECT_NEAR(l.n_ref, 100.0, 1e-9);
  EXPECT_NEAR(l.e_ref, 10.0 / 3.0, 1e-12);
}

TEST(ScalingFit, PurePowerLawByHand) {
  // MAE = 8, 4, 2 at N = 10, 1000, 1e5: halves every factor 100, so b = log10(2) / 2 and
  // a = 8 * 10^b = 8 * sqrt(2); N_ref = 1000 and E_ref = 4 exactly on the line.
  const auto f = fit_law(ScalingLaw::kPower0, {10, 1000, 1e5}, {8, 4, 2});
  EXPECT_NEAR(f.b, std::log10(2.0) / 2, 1e-12);
  EXPECT_NEAR(f.a, 8 * std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(f.e_ref, 4.0, 1e-12);
  EXPECT_NEAR(f.c, 0.0, 0.0);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  // Least squares in log space, by hand: log y = ln 8, ln 4 + 0.1, ln 2 at x = 1, 3, 5. The
  // residual pattern +0.1 in the middle lifts the line by 0.1/3 and leaves the slope alone.
  const auto g = fit_law(ScalingLaw::kPower0, {10, 1000, 1e5}, {8, 4 * std::exp(0.1), 2});
  EXPECT_NEAR(g.b, std::log10(2.0) / 2, 1e-12);
  EXPECT_NEAR(g.e_ref, 4 * std::exp(0.1 / 3), 1e-12);
  EXPECT_THROW(fit_law(ScalingLaw::kPower0, {10, 100}, {1, 0}), Error);
}

TEST(ScalingFit, ConditioningSaysWhetherTheExponentIsDetermined) {
  // A well-sampled curve (the noisy law above, 30 subjects, 9 sizes) determines b and c.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 0.2);
  std::vector<SizeSubjects> good, flat;
  for (double n : sizes()) {
    SizeSubjects g{n, {}}, f{n, {}};
    for (int i = 0; i < 30; ++i) {
      const double e = noise(rng);
      g.subject_mae["s" + std::to_string(i)] = kA * std::pow(n, -kB) + kC + e;
      // No trend at all: only noise around 6 BPM. Nothing decreases; b cannot be resolved.
      f.subject_mae["s" + std::to_string(i)] = 6.0 + 5 * e;
    }
    good.push_back(g);
    flat.push_back(f);
  }
  const auto a = analyse_law(ScalingLaw::kPower, good, 200, 5);
  EXPECT_FALSE(a.ill_conditioned) << a.condition;
  EXPECT_TRUE(a.condition.empty());
  EXPECT_LE(a.e_ref_ci.lo, kA * std::pow(a.fit.n_ref, -kB) + kC);
  EXPECT_GE(a.e_ref_ci.hi, kA * std::pow(a.fit.n_ref, -kB) + kC);
  const auto b = analyse_law(ScalingLaw::kPower, flat, 200, 5);
  EXPECT_TRUE(b.ill_conditioned);
  EXPECT_FALSE(b.condition.empty());
  // E_ref stays meaningful: the flat curve's level, 6 BPM, within a narrow interval.
  EXPECT_NEAR(b.fit.e_ref, 6.0, 0.3);
  EXPECT_LT(b.e_ref_ci.hi - b.e_ref_ci.lo, 1.0);
}

}  // namespace
}  // namespace ppgkd
