// Paired statistics against independent values: the Wilcoxon signed-rank p against the null
// distribution enumerated here by brute force over all 2^n sign assignments (with and without
// ties), textbook critical values, a hand-computed normal approximation; Holm on a hand example;
// the percentile bootstrap against the exact bootstrap distribution enumerated over all n^n
// resamples, and its zero width on constant data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "analysis/stats.h"

namespace ppgkd {
namespace {

// Two-sided p of the observed W+ (given as doubled ranks, so ties stay integers) by enumerating
// every sign assignment of the ranks: 2 min(#{W <= w}, #{W >= w}) / 2^n, capped at 1.
double brute_force_p(const std::vector<int>& rank2, int w2) {
  const int n = static_cast<int>(rank2.size());
  long le = 0, ge = 0;
  for (long mask = 0; mask < (1L << n); ++mask) {
    int s = 0;
    for (int i = 0; i < n; ++i)
      if (mask & (1L << i)) s += rank2[i];
    le += s <= w2;
    ge += s >= w2;
  }
  return std::min(1.0, 2.0 * std::min(le, ge) / static_cast<double>(1L << n));
}

TEST(Wilcoxon, ExactPMatchesBruteForceEnumerationForN5To8) {
  // Distinct |d| = 1..n: ranks 1..n. Every sign pattern, i.e. every attainable W+.
  for (int n = 5; n <= 8; ++n) {
    std::vector<int> rank2;
    for (int i = 1; i <= n; ++i) rank2.push_back(2 * i);
    for (long mask = 0; mask < (1L << n); ++mask) {
      std::vector<double> d;
      int w2 = 0;
      for (int i = 1; i <= n; ++i) {
        const bool pos = mask & (1L << (i - 1));
        d.push_back(pos ? i * 0.7 : -i * 0.7);
        w2 += pos ? 2 * i : 0;
      }
      const auto r = wilcoxon_signed_rank(d);
      ASSERT_TRUE(r.exact);
      ASSERT_EQ(r.n, n);
      ASSERT_DOUBLE_EQ(r.w_plus, w2 / 2.0);
      ASSERT_NEAR(r.p, brute_force_p(rank2, w2), 1e-12) << "n " << n << " mask " << mask;
    }
  }
}

TEST(Wilcoxon, ExactPWithTiesMatchesBruteForceOverMidRanks) {
  // |d| = 1, 1, 2, 3, 3, 3: mid-ranks 1.5, 1.5, 3, 5, 5, 5 (doubled 3, 3, 6, 10, 10, 10).
  const std::vector<double> mag = {1, 1, 2, 3, 3, 3};
  const std::vector<int> rank2 = {3, 3, 6, 10, 10, 10};
  for (long mask = 0; mask < 64; ++mask) {
    std::vector<double> d;
    int w2 = 0;
    for (int i = 0; i < 6; ++i) {
      const bool pos = mask & (1L << i);
      d.push_back(pos ? mag[i] : -mag[i]);
      w2 += pos ? rank2[i] : 0;
    }
    const auto r = wilcoxon_signed_rank(d);
    ASSERT_DOUBLE_EQ(r.w_plus, w2 / 2.0);
    ASSERT_NEAR(r.p, brute_force_p(rank2, w2), 1e-12) << "mask " << mask;
  }
}

TEST(Wilcoxon, TextbookValues) {
  // n = 5, all positive: W+ = 15, the one extreme of 32 patterns: p = 2/32.
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({1, 2, 3, 4, 5}).p, 0.0625);
  // n = 8 two-sided 5 % critical value T = 3 (tables of Wilcoxon 1949): P(W <= 3) = 5/256,
  // P(W <= 4) = 7/256. W+ = 3 from negatives at ranks 4..8 and positives at 1 and 2.
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({1, 2, -3, -4, -5, -6, -7, -8}).p, 10.0 / 256);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({-1, -2, 3, -4, -5, -6, -7, -8}).w_plus, 3.0);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({-1, -2, -3, 4, -5, -6, -7, -8}).p, 14.0 / 256);
  // The null distribution of W+ for n = 5 (counts over 32 patterns, w = 0..15):
  // 1 1 1 2 2 3 3 3 3 3 3 2 2 1 1 1. P(W+ <= 3) = 5/32, so W+ = 3 gives p = 10/32.
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({1, 2, -3, -4, -5}).p, 10.0 / 32);
  // W+ = 7 or 8 sits in the middle: P(W+ <= 7) = 16/32 -> p = 1.
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({-1, 2, -3, -4, 5}).p, 1.0);
}

TEST(Wilcoxon, ZerosAreDroppedAndCounted) {
  const auto r = wilcoxon_signed_rank({0, 1, 2, 0, 3, 4, 5});
  EXPECT_EQ(r.n, 5);
  EXPECT_EQ(r.zeros, 2);
  EXPECT_DOUBLE_EQ(r.p, 0.0625);
  const auto none = wilcoxon_signed_rank({0, 0});
  EXPECT_EQ(none.n, 0);
  EXPECT_DOUBLE_EQ(none.p, 1.0);
}

TEST(Wilcoxon, NormalApproximationAboveTheExactLimitByHand) {
  // d = -1..-20, 21..60: n = 60 > 50, W+ = 21 + ... + 60 = 1620. Mean 60*61/4 = 915, variance
  // 60*61*121/24 = 18452.5 (no ties), z = (1620 - 915 - 0.5) / sqrt(18452.5) = 5.18626...,
  // p = erfc(z / sqrt 2) = 2.1457e-7 (two-sided normal tail).
  std::vector<double> d;
  for (int i = 1; i <= 60; ++i) d.push_back(i <= 20 ? -i : i);
  const auto r = wilcoxon_signed_rank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.w_plus, 1620.0);
  EXPECT_NEAR(r.p, 2.1457e-7, 0.0005e-7);
  // At the exact limit (n = 50) the same pattern is exact: W+ = 21 + ... + 50 = 1065, and
  // 2 #{subsets of 1..50 with sum >= 1065} / 2^50 = 1.44226427e-5 (counted with integer
  // subset-sum counts, outside this code). The normal approximation would say 3.76e-5: that far
  // in the tail it is poor, which is why small samples get the exact distribution.
  d.clear();
  for (int i = 1; i <= 50; ++i) d.push_back(i <= 20 ? -i : i);
  const auto e = wilcoxon_signed_rank(d);
  EXPECT_TRUE(e.exact);
  EXPECT_NEAR(e.p, 1.44226427e-5, 1e-12);
}

TEST(Wilcoxon, TieCorrectionLowersTheVariance) {
  // 60 differences, all |d| = 1 (one tie group of 60): mid-rank 30.5 each. 40 positive:
  // W+ = 1220, mean 915, variance 18452.5 - (60^3 - 60) / 48 = 18452.5 - 4498.75 = 13953.75,
  // z = (305 - 0.5) / sqrt(13953.75) = 2.57776, p = 0.009944.
  std::vector<double> d(60, 1.0);
  for (int i = 0; i < 20; ++i) d[i] = -1.0;
  const auto r = wilcoxon_signed_rank(d);
  EXPECT_DOUBLE_EQ(r.w_plus, 1220.0);
  EXPECT_NEAR(r.p, 0.009944, 0.000005);
}

TEST(Holm, HandExample) {
  // p = .01 .04 .03 .005 (m = 4). Sorted: .005 x4 = .02; .01 x3 = .03; .03 x2 = .06;
  // .04 x1 = .04 -> running max .06. Back in the given order: .03 .06 .06 .02.
  const auto a = holm_adjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(a.size(), 4u);
  EXPECT_NEAR(a[0], 0.03, 1e-15);
  EXPECT_NEAR(a[1], 0.06, 1e-15);
  EXPECT_NEAR(a[2], 0.06, 1e-15);
  EXPECT_NEAR(a[3], 0.02, 1e-15);
  // NaN is not in the family (m = 2 here): .3 x 2 = .6; .7 x 1 = .7.
  const auto b = holm_adjust({0.3, std::nan(""), 0.7});
  EXPECT_DOUBLE_EQ(b[0], 0.6);
  EXPECT_TRUE(std::isnan(b[1]));
  EXPECT_DOUBLE_EQ(b[2], 0.7);
  // Capped at 1: .6 x 2 = 1.2 -> 1, then the running maximum keeps 1.
  const auto c = holm_adjust({0.6, 0.7});
  EXPECT_DOUBLE_EQ(c[0], 1.0);
  EXPECT_DOUBLE_EQ(c[1], 1.0);
}

TEST(Bootstrap, ConstantDifferencesGiveAZeroWidthIntervalAtTheConstant) {
  const auto ci = bootstrap_mean_ci(std::vector<double>(12, -0.75), 2000, 3);
  EXPECT_DOUBLE_EQ(ci.lo, -0.75);
  EXPECT_DOUBLE_EQ(ci.hi, -0.75);
}

// The exact bootstrap distribution of the mean of v: all n^n equally likely resamples.
std::vector<double> all_resample_means(const std::vector<double>& v) {
  const size_t n = v.size();
  size_t total = 1;
  for (size_t i = 0; i < n; ++i) total *= n;
  std::vector<double> means;
  for (size_t code = 0; code < total; ++code) {
    double s = 0;
    size_t c = code;
    for (size_t i = 0; i < n; ++i, c /= n) s += v[c % n];
    means.push_back(s / n);
  }
  std::sort(means.begin(), means.end());
  return means;
}

TEST(Bootstrap, PercentilesMatchTheExactBootstrapDistribution) {
  // n = 5: 3125 resamples. The 2.5 % and 97.5 % points of the exact distribution are plateaus
  // (atoms); the Monte Carlo interval with many replicates must land on them within the spacing
  // of neighbouring atoms.
  const std::vector<double> v = {0.3, -1.2, 2.5, 0.9, -0.4};
  const auto exact = all_resample_means(v);
  const double lo = quantile(exact, 0.025), hi = quantile(exact, 0.975);
  const auto ci = bootstrap_mean_ci(v, 200000, 9);
  EXPECT_NEAR(ci.lo, lo, 0.03) << "exact " << lo;
  EXPECT_NEAR(ci.hi, hi, 0.03) << "exact " << hi;
  // n = 3, values 1, 2, 4: P(mean = 1) = P(mean = 4) = 1/27 > 2.5 %, so the exact percentile
  // interval is [1, 4], and so is every Monte Carlo one with enough replicates.
  const auto three = bootstrap_mean_ci({1, 2, 4}, 20000, 5);
  EXPECT_DOUBLE_EQ(three.lo, 1.0);
  EXPECT_DOUBLE_EQ(three.hi, 4.0);
}

TEST(Bootstrap, SameSeedSameIntervalAndEmptyIsNaN) {
  const std::vector<double> v = {1, 5, 2, 8, -3, 0.5};
  const auto a = bootstrap_mean_ci(v, 500, 42), b = bootstrap_mean_ci(v, 500, 42);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_TRUE(std::isnan(bootstrap_mean_ci({}, 10, 1).lo));
}

TEST(Stats, SampleSdByHand) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, SD = sqrt(32 / 7).
  EXPECT_DOUBLE_EQ(sample_sd({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7.0));
  EXPECT_TRUE(std::isnan(sample_sd({3})));
  EXPECT_DOUBLE_EQ(mean({1, 2, 6}), 3.0);
}

}  // namespace
}  // namespace ppgkd
