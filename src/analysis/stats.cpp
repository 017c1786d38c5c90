#include "analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace ppgkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / (v.size() - 1));
}

Interval bootstrap_mean_ci(const std::vector<double>& v, int n_boot, uint64_t seed, double level) {
  if (v.empty()) return {kNaN, kNaN};
  std::mt19937_64 rng(seed);
  std::vector<double> means;
  means.reserve(n_boot);
  for (int b = 0; b < n_boot; ++b) {
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += v[rng() % v.size()];
    means.push_back(s / v.size());
  }
  const double tail = (1 - level) / 2;
  return {quantile(means, tail), quantile(means, 1 - tail)};
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d) {
  WilcoxonResult r;
  std::vector<double> nz;
  for (double x : d) {
    if (x == 0) {
      ++r.zeros;
    } else {
      ++r.n;
      nz.push_back(x);
    }
  }
  if (r.n == 0) return r;
  // Mid-ranks of |d|, doubled so that they are integers: a tie group over sorted positions
  // i..j-1 (0-based) has rank (i + j + 1) / 2, doubled i + j + 1.
  std::vector<size_t> order(nz.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return std::abs(nz[a]) < std::abs(nz[b]); });
  std::vector<int> rank2(nz.size());
  double tie_term = 0;  // sum over tie groups of t^3 - t
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && std::abs(nz[order[j]]) == std::abs(nz[order[i]])) ++j;
    for (size_t k = i; k < j; ++k) rank2[order[k]] = static_cast<int>(i + j + 1);
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  int w2 = 0;  // doubled W+
  for (size_t i = 0; i < nz.size(); ++i)
    if (nz[i] > 0) w2 += rank2[i];
  r.w_plus = w2 / 2.0;
  const double n = r.n;
  if (r.n <= kWilcoxonExactMax) {
    // prob[s] = P(sum of doubled ranks of the positive signs = s) under independent fair signs.
    const int total = std::accumulate(rank2.begin(), rank2.end(), 0);
    std::vector<double> prob(total + 1, 0.0);
    prob[0] = 1;
    int reach = 0;
    for (int r2 : rank2) {
      for (int s = reach; s >= 0; --s) {
        if (prob[s] == 0) continue;
        prob[s + r2] += 0.5 * prob[s];
        prob[s] *= 0.5;
      }
      reach += r2;
    }
    double lo = 0, hi = 0;
    for (int s = 0; s <= total; ++s) (s <= w2 ? lo : hi) += prob[s];
    hi += prob[w2];  // P(W+ >= w) includes w itself
    r.p = std::min(1.0, 2 * std::min(lo, hi));
    r.exact = true;
  } else {
    const double mu = n * (n + 1) / 4;
    const double var = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
    const double dev = std::max(0.0, std::abs(r.w_plus - mu) - 0.5);
    const double z = var > 0 ? dev / std::sqrt(var) : 0.0;
    r.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));  // 2 (1 - Phi(z))
    r.exact = false;
  }
  return r;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size(), kNaN);
  const double m = static_cast<double>(idx.size());
  double running = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - k) * p[idx[k]]));
    out[idx[k]] = running;
  }
  return out;
}

}  // namespace ppgkd
