// Tests for the distillation losses, each against an independent fact: closed forms worked out in
// the comments, Zhao et al.'s KD = TCKD + (1 - p_t) NCKD identity, a plain-C++ transcription of
// mdistiller's dkd_loss, analytic gradients and invariance to a constant shift of the logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "train/losses.h"

namespace ppgkd {
namespace {

using Rows = std::vector<std::vector<double>>;
using Shape = std::vector<int64_t>;  // a feature shape without the batch dimension

constexpr double kHandTol = 1e-9;  // closed forms evaluated in double
constexpr int64_t kClasses = 180;

// ------------------------------------------------------------------------------ helpers

torch::Tensor mat(const Rows& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kDouble)
      .reshape({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())});
}

torch::Tensor labels(const std::vector<int64_t>& y) {
  return torch::tensor(y, torch::kLong);
}

double value(const torch::Tensor& t) {
  return t.item<double>();
}

// Standard-normal logits times `scale`, from a fixed seed.
Rows random_logits(int64_t batch, int64_t classes, double scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Rows rows(batch, std::vector<double>(classes));
  for (auto& r : rows)
    for (auto& v : r) v = normal(rng);
  return rows;
}

std::vector<int64_t> random_targets(int64_t batch, int64_t classes, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, classes - 1);
  std::vector<int64_t> y(batch);
  for (auto& v : y) v = pick(rng);
  return y;
}

// Plain-C++ softmax of z / T (max subtracted for stability).
std::vector<double> softmax(const std::vector<double>& z, double temperature) {
  double mx = z[0];
  for (double v : z) mx = std::max(mx, v);
  std::vector<double> p(z.size());
  double sum = 0;
  for (size_t k = 0; k < z.size(); ++k) sum += p[k] = std::exp((z[k] - mx) / temperature);
  for (double& v : p) v /= sum;
  return p;
}

// Plain-C++ cross-entropy of one row: -log softmax(z)[y].
double row_ce(const std::vector<double>& z, int64_t y) {
  return -std::log(softmax(z, 1.0)[y]);
}

double mean_ce(const Rows& z, const std::vector<int64_t>& y) {
  double s = 0;
  for (size_t b = 0; b < z.size(); ++b) s += row_ce(z[b], y[b]);
  return s / z.size();
}

// ------------------------------------------------------------------------------ hand examples
//
// K = 3. a = (0, ln 2, ln 3) has softmax (1/6, 1/3, 1/2); r = (ln 3, ln 2, 0) has (1/2, 1/3, 1/6).
// Sample 1: student a, teacher r, target 0.  Sample 2: student r, teacher a, target 1.
//
// CE:  sample 1 -ln(1/6) = ln 6; sample 2 -ln(1/3) = ln 3.
// KL(teacher || student) at T = 1, both samples: 1/2 ln 3 + 1/3 ln 1 + 1/6 ln(1/3) = 1/3 ln 3.
// TCKD (T = 1):
//   sample 1: b_t = (1/2, 1/2), b_s = (1/6, 5/6): 1/2 ln 3 + 1/2 ln(3/5) = 1/2 ln(9/5)
//   sample 2: b_t = (1/3, 2/3), b_s = (1/3, 2/3): 0
// NCKD (T = 1):
//   sample 1: teacher (1/3, 1/6) / (1/2) = (2/3, 1/3), student (1/3, 1/2) / (5/6) = (2/5, 3/5):
//             2/3 ln(5/3) + 1/3 ln(5/9)
//   sample 2: teacher (1/6, 1/2) / (2/3) = (1/4, 3/4), student (1/2, 1/6) / (2/3) = (3/4, 1/4):
//             1/4 ln(1/3) + 3/4 ln 3 = 1/2 ln 3
// (Check of the identity, sample 1: 1/2 ln(9/5) + 1/2 (2/3 ln(5/3) + 1/3 ln(5/9)) = 1/3 ln 3.)

const double kLn2 = std::log(2.0), kLn3 = std::log(3.0), kLn6 = std::log(6.0);

torch::Tensor hand_student() {
  return mat({{0, kLn2, kLn3}, {kLn3, kLn2, 0}});
}
torch::Tensor hand_teacher() {
  return mat({{kLn3, kLn2, 0}, {0, kLn2, kLn3}});
}
torch::Tensor hand_targets() {
  return labels({0, 1});
}

const double kHandCe = (kLn6 + kLn3) / 2;
const double kHandTckd = (0.5 * std::log(9.0 / 5.0) + 0.0) / 2;
const double kHandNckd =
    ((2.0 / 3.0) * std::log(5.0 / 3.0) + (1.0 / 3.0) * std::log(5.0 / 9.0) + 0.5 * kLn3) / 2;

TEST(Losses, CeByHand) {
  EXPECT_NEAR(value(ce_loss(hand_student(), hand_targets())), kHandCe, kHandTol);
}

// Gaussian labels on the hand examples, sigma = 1 (one class), eps = 0:
//   sample 1 (y = 0): g = (1, e^-1/2, e^-2) / Z1, Z1 = 1 + e^-1/2 + e^-2; p = (1/6, 1/3, 1/2):
//             loss = (ln 6 + e^-1/2 ln 3 + e^-2 ln 2) / Z1
//   sample 2 (y = 1): g = (e^-1/2, 1, e^-1/2) / Z2, Z2 = 1 + 2 e^-1/2; p = (1/2, 1/3, 1/6):
//             loss = (e^-1/2 ln 2 + ln 3 + e^-1/2 ln 6) / Z2
// With smoothing eps the target is (1 - eps) g + eps / 3, so the loss is (1 - eps) times the
// above plus eps times the mean of -ln p over the classes: (ln 6 + ln 3 + ln 2) / 3 = ln 36 / 3 for
// both samples.
TEST(Losses, GaussianLabelCeByHand) {
  const double h = std::exp(-0.5), q = std::exp(-2.0);
  const double s1 = (kLn6 + h * kLn3 + q * kLn2) / (1 + h + q);
  const double s2 = (h * kLn2 + kLn3 + h * kLn6) / (1 + 2 * h);
  EXPECT_NEAR(value(gaussian_label_ce(hand_student(), hand_targets(), 1.0, 0.0)), (s1 + s2) / 2,
              kHandTol);
  const double eps = 0.3, uniform = std::log(36.0) / 3;
  EXPECT_NEAR(value(gaussian_label_ce(hand_student(), hand_targets(), 1.0, eps)),
              (1 - eps) * (s1 + s2) / 2 + eps * uniform, kHandTol);
  // A vanishing sigma is the one-hot label; sigma 0 is torch's label-smoothed cross-entropy,
  // (1 - eps) CE + eps mean(-ln p).
  EXPECT_NEAR(value(gaussian_label_ce(hand_student(), hand_targets(), 1e-3, 0.0)), kHandCe,
              kHandTol);
  EXPECT_NEAR(value(gaussian_label_ce(hand_student(), hand_targets(), 0.0, eps)),
              (1 - eps) * kHandCe + eps * uniform, kHandTol);
}

TEST(Losses, GaussianLabelCeIdentities) {
  const auto y = labels({0, 57, 179});
  // Equal logits: every target sums to 1, so the loss is ln K whatever sigma and eps.
  const auto flat = torch::zeros({3, kClasses}, torch::kDouble);
  for (double sigma : {0.5, 3.0, 20.0})
    EXPECT_NEAR(value(gaussian_label_ce(flat, y, sigma, 0.1)), std::log(double(kClasses)),
                kHandTol);
  // The target's own log-probabilities as logits: the loss is the target's entropy and its
  // gradient (softmax - target) vanishes. The target is built here in plain C++, cut at the class
  // range's ends and renormalised (class 0 and 179 keep only one side of their Gaussian).
  const double sigma = 3.0, eps = 0.1;
  Rows logt(3, std::vector<double>(kClasses));
  double entropy = 0;
  for (int b = 0; b < 3; ++b) {
    const double yb = static_cast<double>(y[b].item<int64_t>());
    std::vector<double> g(kClasses);
    double z = 0;
    for (int64_t c = 0; c < kClasses; ++c) z += g[c] = std::exp(-(c - yb) * (c - yb) / 18.0);
    for (int64_t c = 0; c < kClasses; ++c) {
      const double t = (1 - eps) * g[c] / z + eps / kClasses;
      logt[b][c] = std::log(t);
      entropy -= t * std::log(t) / 3;
    }
  }
  auto logits = mat(logt).requires_grad_(true);
  auto loss = gaussian_label_ce(logits, y, sigma, eps);
  EXPECT_NEAR(value(loss), entropy, kHandTol);
  loss.backward();
  EXPECT_LT(logits.grad().abs().max().item<double>(), 1e-12);
  // Any other logits cost more (Gibbs' inequality).
  EXPECT_GT(value(gaussian_label_ce(mat(logt) + 0.01 * mat(random_logits(3, kClasses, 1.0, 4)), y,
                                    sigma, eps)),
            entropy);
  EXPECT_THROW(gaussian_label_ce(flat, y, -1.0, 0.1), Error);
  EXPECT_THROW(gaussian_label_ce(flat, y, 3.0, 1.0), Error);
  EXPECT_THROW(gaussian_label_ce(flat, labels({0, 180, 1}), 3.0, 0.1), Error);
}

TEST(Losses, ClassBalanceWeightsByHand) {
  // Counts (3, 1, 0). Exponent 1: raw (1/4, 1/2, 1), the targets' sum 3/4 + 1/2 = 5/4, scaled by
  // 4 / (5/4) = 3.2. Exponent 1/2: raw (1/2, 1/sqrt 2, 1), scaled by 4 / (3/2 + 1/sqrt 2).
  const std::vector<int64_t> targets = {0, 1, 0, 0};
  auto w = class_balance_weights(targets, 3, 1.0);
  ASSERT_EQ(w.size(0), 3);
  EXPECT_NEAR(w[0].item<double>(), 0.8, 1e-6);
  EXPECT_NEAR(w[1].item<double>(), 1.6, 1e-6);
  EXPECT_NEAR(w[2].item<double>(), 3.2, 1e-6);
  const double scale = 4 / (1.5 + 1 / std::sqrt(2.0));
  w = class_balance_weights(targets, 3, 0.5);
  EXPECT_NEAR(w[0].item<double>(), 0.5 * scale, 1e-6);
  EXPECT_NEAR(w[1].item<double>(), scale / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(w[2].item<double>(), scale, 1e-6);
  EXPECT_TRUE(torch::equal(class_balance_weights(targets, 3, 0.0), torch::ones({3})));
  EXPECT_THROW(class_balance_weights(targets, 3, 1.5), Error);
  EXPECT_THROW(class_balance_weights({0, 3}, 3, 0.5), Error);
  EXPECT_THROW(class_balance_weights({}, 3, 0.5), Error);
}

TEST(Losses, HardKdByHand) {
  // Teacher argmax: sample 1 class 0 (student prob 1/6), sample 2 class 2 (student prob 1/6).
  const torch::Tensor s = hand_student(), t = hand_teacher(), y = hand_targets();
  EXPECT_NEAR(value(hard_kd_loss(s, t, y)), kLn6, kHandTol);
  // Mixed, w = 0.25: 0.75 CE(y, s) + 0.25 ln 6.
  EXPECT_NEAR(value(hard_kd_loss(s, t, y, 0.25)), 0.75 * kHandCe + 0.25 * kLn6, kHandTol);
  // w = 0 is plain CE.
  EXPECT_NEAR(value(hard_kd_loss(s, t, y, 0.0)), kHandCe, kHandTol);
}

TEST(Losses, SoftKdByHand) {
  const torch::Tensor s = hand_student(), t = hand_teacher(), y = hand_targets();
  // T = 1, alpha = 0.5: 0.5 CE + 0.5 * 1 * (1/3) ln 3.
  EXPECT_NEAR(value(soft_kd_loss(s, t, y, 0.5, 1.0)), 0.5 * kHandCe + 0.5 * kLn3 / 3, kHandTol);
  // T = 2, alpha = 1: at T = 2 the student of sample 1 has weights (1, sqrt2, sqrt3) / Z and the
  // teacher (sqrt3, sqrt2, 1) / Z with Z = 1 + sqrt2 + sqrt3, so
  // KL = sqrt3/Z ln sqrt3 + 1/Z ln(1/sqrt3) = (sqrt3 - 1) ln 3 / (2 Z); sample 2 is its mirror.
  // Loss = T^2 KL = 2 (sqrt3 - 1) ln 3 / Z.
  const double z = 1 + std::sqrt(2.0) + std::sqrt(3.0);
  EXPECT_NEAR(value(soft_kd_loss(s, t, y, 1.0, 2.0)), 2 * (std::sqrt(3.0) - 1) * kLn3 / z,
              kHandTol);
}

TEST(Losses, DkdByHand) {
  const torch::Tensor s = hand_student(), t = hand_teacher(), y = hand_targets();
  const DkdOptions opt{/*alpha=*/1.0, /*beta=*/8.0, /*temperature=*/1.0, /*warmup_epochs=*/20};
  const DkdLoss full = dkd_loss(s, t, y, opt, /*epoch=*/20);
  EXPECT_NEAR(value(full.ce), kHandCe, kHandTol);
  EXPECT_NEAR(value(full.tckd), kHandTckd, kHandTol);
  EXPECT_NEAR(value(full.nckd), kHandNckd, kHandTol);
  EXPECT_NEAR(value(full.total), kHandCe + 1.0 * kHandTckd + 8.0 * kHandNckd, kHandTol);
  // Epoch 5 of a 20-epoch warmup: the KD part carries 5/20 of its weight.
  const DkdLoss ramp = dkd_loss(s, t, y, opt, /*epoch=*/5);
  EXPECT_NEAR(value(ramp.total), kHandCe + 0.25 * (kHandTckd + 8.0 * kHandNckd), kHandTol);
  // alpha and beta weight the two parts linearly.
  DkdOptions weights = opt;
  weights.alpha = 3.0;
  weights.beta = 0.5;
  const DkdLoss w = dkd_loss(s, t, y, weights, 20);
  EXPECT_NEAR(value(w.total), kHandCe + 3.0 * kHandTckd + 0.5 * kHandNckd, kHandTol);
}

TEST(Losses, DkdWarmupRamp) {
  EXPECT_DOUBLE_EQ(dkd_warmup(1, 20), 0.05);
  EXPECT_DOUBLE_EQ(dkd_warmup(10, 20), 0.5);
  EXPECT_DOUBLE_EQ(dkd_warmup(20, 20), 1.0);
  EXPECT_DOUBLE_EQ(dkd_warmup(45, 20), 1.0);
  EXPECT_DOUBLE_EQ(dkd_warmup(1, 0), 1.0);
}

// ------------------------------------------------------------------------------ student == teacher

TEST(Losses, StudentEqualToTeacherLeavesOnlyTheTaskPart) {
  const int64_t batch = 16;
  const Rows z = random_logits(batch, kClasses, 3.0, 11);
  const std::vector<int64_t> yv = random_targets(batch, kClasses, 12);
  const torch::Tensor s = mat(z), y = labels(yv);
  const double ce = mean_ce(z, yv);

  // Soft: the KL part vanishes for any alpha and T.
  EXPECT_NEAR(value(soft_kd_loss(s, s, y, 1.0, 4.0)), 0.0, 1e-12);
  EXPECT_NEAR(value(soft_kd_loss(s, s, y, 0.3, 2.0)), 0.7 * ce, 1e-12);
  // DKD: both KL parts vanish, total = CE.
  const DkdLoss d = dkd_loss(s, s, y, DkdOptions{}, 100);
  EXPECT_NEAR(value(d.tckd), 0.0, 1e-12);
  EXPECT_NEAR(value(d.nckd), 0.0, 1e-12);
  EXPECT_NEAR(value(d.total), ce, 1e-12);
  // Hard: the label becomes the student's own argmax, so the loss is mean(-log max softmax).
  double own = 0;
  for (const auto& r : z) {
    const std::vector<double> p = softmax(r, 1.0);
    own -= std::log(*std::max_element(p.begin(), p.end()));
  }
  own /= batch;
  EXPECT_NEAR(value(hard_kd_loss(s, s, y)), own, 1e-12);
  EXPECT_NEAR(value(hard_kd_loss(s, s, y, 0.4)), 0.6 * ce + 0.4 * own, 1e-12);
}

// ------------------------------------------------------------------------------ Zhao's identity

// Per sample: KD = TCKD + (1 - p_t^teacher) NCKD, all unscaled by T^2, KD = KL at temperature T.
// Each sample is evaluated as a batch of one, so the batch mean is that sample's value.
void check_identity(double temperature, double scale, unsigned seed) {
  const int64_t samples = 200;
  const Rows zs = random_logits(samples, kClasses, scale, seed);
  const Rows zt = random_logits(samples, kClasses, scale, seed + 1);
  const std::vector<int64_t> yv = random_targets(samples, kClasses, seed + 2);
  DkdOptions opt;
  opt.temperature = temperature;
  const double t2 = temperature * temperature;
  for (int64_t b = 0; b < samples; ++b) {
    const torch::Tensor s = mat({zs[b]}), t = mat({zt[b]}), y = labels({yv[b]});
    const double kd = value(soft_kd_loss(s, t, y, 1.0, temperature)) / t2;
    const DkdLoss d = dkd_loss(s, t, y, opt, 1);
    const double p_t = softmax(zt[b], temperature)[yv[b]];
    const double tckd = value(d.tckd) / t2, nckd = value(d.nckd) / t2;
    ASSERT_NEAR(kd, tckd + (1 - p_t) * nckd, 1e-10 * std::max(1.0, kd))
        << "sample " << b << " T " << temperature;
    ASSERT_GT(kd, 0.0);
  }
}

TEST(Losses, DkdIdentityKdEqualsTckdPlusWeightedNckd) {
  check_identity(4.0, 3.0, 100);
  check_identity(1.0, 2.0, 200);
  check_identity(0.5, 5.0, 300);  // sharp distributions: p_t near 0 or 1 in places
}

// ------------------------------------------------------------------------------ mdistiller

// A plain-C++ transcription of mdistiller's dkd_loss (its published reference code): softmax,
// target/non-target masses by masked sums, log of the student masses, and NCKD from softmax of
// logits/T - 1000 * gt_mask; kl_div summed then divided by the batch size, times T^2.
struct MdistillerDkd {
  double tckd = 0, nckd = 0;
};

MdistillerDkd mdistiller_dkd(const Rows& zs, const Rows& zt, const std::vector<int64_t>& y,
                             double temperature) {
  MdistillerDkd out;
  const double t2 = temperature * temperature;
  for (size_t b = 0; b < zs.size(); ++b) {
    const std::vector<double> ps = softmax(zs[b], temperature), pt = softmax(zt[b], temperature);
    const double bs[2] = {ps[y[b]], 1 - ps[y[b]]}, bt[2] = {pt[y[b]], 1 - pt[y[b]]};
    for (int i = 0; i < 2; ++i) out.tckd += bt[i] * (std::log(bt[i]) - std::log(bs[i]));
    std::vector<double> ms = zs[b], mt = zt[b];
    for (auto* m : {&ms, &mt}) {
      for (double& v : *m) v /= temperature;
      (*m)[y[b]] -= 1000.0;
    }
    const std::vector<double> qs = softmax(ms, 1.0), qt = softmax(mt, 1.0);
    for (size_t k = 0; k < qs.size(); ++k)
      if (qt[k] > 0) out.nckd += qt[k] * (std::log(qt[k]) - std::log(qs[k]));
  }
  out.tckd *= t2 / zs.size();
  out.nckd *= t2 / zs.size();
  return out;
}

TEST(Losses, DkdMatchesMdistillerFormulation) {
  const int64_t batch = 32;
  const Rows zs = random_logits(batch, kClasses, 2.5, 7), zt = random_logits(batch, kClasses, 4, 8);
  const std::vector<int64_t> yv = random_targets(batch, kClasses, 9);
  DkdOptions opt;  // alpha 1, beta 8, T 4, warmup 20
  const MdistillerDkd ref = mdistiller_dkd(zs, zt, yv, opt.temperature);
  const DkdLoss d = dkd_loss(mat(zs), mat(zt), labels(yv), opt, /*epoch=*/7);
  EXPECT_NEAR(value(d.tckd), ref.tckd, 1e-10);
  EXPECT_NEAR(value(d.nckd), ref.nckd, 1e-10);
  EXPECT_NEAR(value(d.total), mean_ce(zs, yv) + (7.0 / 20.0) * (ref.tckd + 8.0 * ref.nckd), 1e-10);
  EXPECT_GT(ref.nckd, 0.0);

  // float32, the training dtype, agrees to float precision.
  const DkdLoss f =
      dkd_loss(mat(zs).to(torch::kFloat), mat(zt).to(torch::kFloat), labels(yv), opt, 7);
  EXPECT_EQ(f.total.scalar_type(), torch::kFloat);
  EXPECT_NEAR(value(f.total), value(d.total), 1e-4 * value(d.total));
}

// ------------------------------------------------------------------------------ gradients

TEST(Losses, CeGradientIsSoftmaxMinusOneHot) {
  // d CE / d z = (softmax(z) - onehot(y)) / B: negative on the target logit, positive elsewhere,
  // so raising the target logit lowers the loss.
  const Rows z = {{0.2, -0.1, 0.4}, {1.0, 0.5, -2.0}};
  const std::vector<int64_t> yv = {0, 2};
  const torch::Tensor s = mat(z).requires_grad_(true);
  ce_loss(s, labels(yv)).backward();
  for (int b = 0; b < 2; ++b) {
    const std::vector<double> p = softmax(z[b], 1.0);
    for (int k = 0; k < 3; ++k) {
      const double g = s.grad()[b][k].item<double>();
      EXPECT_NEAR(g, (p[k] - (k == yv[b] ? 1.0 : 0.0)) / 2, 1e-12);
      if (k == yv[b]) {
        EXPECT_LT(g, 0.0);
      }
    }
  }
}

TEST(Losses, SoftKdGradientClosedForm) {
  // d/ds [T^2 KL(softmax(t/T) || softmax(s/T))] / B = T (softmax(s/T) - softmax(t/T)) / B, so a
  // class the student under-weights relative to the teacher gets a negative gradient.
  const Rows zs = {{0.2, -0.1, 0.4}}, zt = {{2.0, 0.0, -1.0}};
  const double temperature = 3.0;
  const torch::Tensor s = mat(zs).requires_grad_(true), t = mat(zt).requires_grad_(true);
  soft_kd_loss(s, t, labels({1}), 1.0, temperature).backward();
  const std::vector<double> ps = softmax(zs[0], temperature), pt = softmax(zt[0], temperature);
  for (int k = 0; k < 3; ++k)
    EXPECT_NEAR(s.grad()[0][k].item<double>(), temperature * (ps[k] - pt[k]), 1e-12);
  EXPECT_LT(s.grad()[0][0].item<double>(), 0.0);  // teacher favours class 0 more
  EXPECT_FALSE(t.grad().defined());               // the teacher is frozen
}

TEST(Losses, DkdGradientsFiniteAndSigned) {
  // Toy case: the teacher is sure of the target (class 0), the student is not. Raising the
  // student's target logit must lower every part (CE and TCKD; NCKD does not depend on it).
  const torch::Tensor s = mat({{0.1, 0.3, -0.2}}).requires_grad_(true);
  const torch::Tensor t = mat({{4.0, 0.5, -1.0}});
  DkdOptions opt;
  const DkdLoss d = dkd_loss(s, t, labels({0}), opt, 100);
  d.total.backward();
  const torch::Tensor g = s.grad();
  EXPECT_TRUE(torch::isfinite(g).all().item<bool>());
  EXPECT_LT(g[0][0].item<double>(), 0.0);

  // NCKD alone is independent of the target logit: zero gradient there.
  const torch::Tensor s2 = mat({{0.1, 0.3, -0.2}}).requires_grad_(true);
  dkd_loss(s2, t, labels({0}), opt, 100).nckd.backward();
  EXPECT_EQ(s2.grad()[0][0].item<double>(), 0.0);
}

TEST(Losses, DkdFiniteForExtremeFloatLogits) {
  // float32 logits 800 apart: softmax underflows to exactly 0 for the target, where
  // log(softmax) (mdistiller's TCKD) would give -inf. Log-sum-exp keeps everything finite.
  const torch::Tensor s =
      torch::tensor({-400.0f, 400.0f, 0.0f}, torch::kFloat).reshape({1, 3}).requires_grad_(true);
  const torch::Tensor t = torch::tensor({400.0f, -400.0f, 0.0f}, torch::kFloat).reshape({1, 3});
  DkdOptions opt;
  opt.temperature = 1.0;
  const DkdLoss d = dkd_loss(s, t, labels({0}), opt, 100);
  d.total.backward();
  EXPECT_TRUE(std::isfinite(value(d.total)));
  EXPECT_TRUE(torch::isfinite(s.grad()).all().item<bool>());
  // TCKD -> KL((1, 0) || (e^-800, 1)) = 800 in the limit: -log p_t^student = 800 exactly up to
  // e^-400 terms.
  EXPECT_NEAR(value(d.tckd), 800.0, 1e-3);
}

// ------------------------------------------------------------------------------ shift invariance

TEST(Losses, InvariantToAddingAConstantToAllLogits) {
  const int64_t batch = 8;
  const Rows zs = random_logits(batch, kClasses, 2.0, 21),
             zt = random_logits(batch, kClasses, 3, 22);
  const torch::Tensor s = mat(zs), t = mat(zt), y = labels(random_targets(batch, kClasses, 23));
  const torch::Tensor s2 = s + 37.5, t2 = t - 12.25;
  const DkdOptions opt;
  EXPECT_NEAR(value(ce_loss(s2, y)), value(ce_loss(s, y)), 1e-10);
  EXPECT_NEAR(value(hard_kd_loss(s2, t2, y, 0.5)), value(hard_kd_loss(s, t, y, 0.5)), 1e-10);
  EXPECT_NEAR(value(soft_kd_loss(s2, t2, y, 0.7, 4.0)), value(soft_kd_loss(s, t, y, 0.7, 4.0)),
              1e-10);
  const DkdLoss a = dkd_loss(s, t, y, opt, 3), b = dkd_loss(s2, t2, y, opt, 3);
  EXPECT_NEAR(value(b.tckd), value(a.tckd), 1e-10);
  EXPECT_NEAR(value(b.nckd), value(a.nckd), 1e-10);
  EXPECT_NEAR(value(b.total), value(a.total), 1e-10);
}

// ------------------------------------------------------------------------------ feature KD

TEST(Losses, ProjectorInterpolatesToTheTeacherLength) {
  // One channel, identity 1x1 conv. Linear interpolation with align_corners = false samples the
  // source at x_j = (j + 0.5) Ls / Lt - 0.5, clamped to [0, Ls - 1]:
  //   Ls = 2 -> Lt = 4: x = -0.25, 0.25, 0.75, 1.25 -> values of (0, 1): 0, 0.25, 0.75, 1
  //   Ls = 4 -> Lt = 2: x = 0.5, 2.5                -> values of (0, 1, 2, 3): 0.5, 2.5
  torch::NoGradGuard no_grad;
  FeatureProjector up(Shape{1, 2}, Shape{1, 4});
  up->conv->weight.fill_(1.0);
  up->conv->bias.fill_(0.0);
  const torch::Tensor y = up->forward(torch::tensor({0.0f, 1.0f}).reshape({1, 1, 2}));
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 4}));
  const float expect_up[4] = {0.0f, 0.25f, 0.75f, 1.0f};
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(y[0][0][j].item<float>(), expect_up[j], 1e-7);

  FeatureProjector down(Shape{1, 4}, Shape{1, 2});
  down->conv->weight.fill_(1.0);
  down->conv->bias.fill_(0.0);
  const torch::Tensor z = down->forward(torch::tensor({0.0f, 1.0f, 2.0f, 3.0f}).reshape({1, 1, 4}));
  ASSERT_EQ(z.sizes(), torch::IntArrayRef({1, 1, 2}));
  EXPECT_NEAR(z[0][0][0].item<float>(), 0.5f, 1e-7);
  EXPECT_NEAR(z[0][0][1].item<float>(), 2.5f, 1e-7);
}

int64_t count_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

TEST(Losses, ProjectorShapesAndParameterCounts) {
  // (Cs, Ls) = (3, 25) -> (Ct, Lt) = (5, 50): conv 3 * 5 weights + 5 biases = 20.
  FeatureProjector conv(Shape{3, 25}, Shape{5, 50});
  EXPECT_EQ(count_params(*conv), 3 * 5 + 5);
  EXPECT_EQ(conv->forward(torch::randn({4, 3, 25})).sizes(), torch::IntArrayRef({4, 5, 50}));
  // MLP vectors (Ds) = 6 -> (Dt) = 4: linear 6 * 4 + 4 = 28.
  FeatureProjector lin(Shape{6}, Shape{4});
  EXPECT_EQ(count_params(*lin), 6 * 4 + 4);
  EXPECT_EQ(lin->forward(torch::randn({4, 6})).sizes(), torch::IntArrayRef({4, 4}));
}

TEST(Losses, FeatureLossIsCePlusLambdaMseWithIdentityProjector) {
  // Identity 1x1 conv on (C, L) = (2, 3). Sample 1 differs from the teacher by -1 and +2 in two
  // of its six entries, sample 2 matches: MSE = (1 + 4) / 12 = 5/12; lambda 0.3 -> 0.125.
  // Logits (0, ln2, ln3) target 2 and (ln3, ln2, 0) target 0: CE = ln 2 each.
  FeatureProjector proj(Shape{2, 3}, Shape{2, 3});
  {
    torch::NoGradGuard no_grad;
    proj->conv->weight.copy_(torch::eye(2).reshape({2, 2, 1}));
    proj->conv->bias.zero_();
  }
  const torch::Tensor fs =
      torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0}, torch::kDouble)
          .reshape({2, 2, 3});
  const torch::Tensor ft =
      torch::tensor({1.0, 2.0, 4.0, 4.0, 3.0, 6.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0}, torch::kDouble)
          .reshape({2, 2, 3});
  proj->to(torch::kDouble);
  const torch::Tensor logits = mat({{0, kLn2, kLn3}, {kLn3, kLn2, 0}});
  const torch::Tensor loss = feature_kd_loss(logits, labels({2, 0}), fs, ft, proj, 0.3);
  EXPECT_NEAR(value(loss), kLn2 + 0.125, kHandTol);
  // Same inputs, teacher equal to the projection: only CE remains.
  EXPECT_NEAR(value(feature_kd_loss(logits, labels({2, 0}), fs, fs, proj, 0.3)), kLn2, kHandTol);
  // The projector learns: the hint loss sends gradients into its weights.
  loss.backward();
  EXPECT_GT(proj->conv->weight.grad().abs().sum().item<double>(), 0.0);
}

// ------------------------------------------------------------------------------ input errors

template <typename Fn>
void expect_error(Fn fn, const std::string& message) {
  try {
    fn();
    FAIL() << "expected ppgkd::Error: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Losses, RejectsBadInputsWithExactMessages) {
  const torch::Tensor s = hand_student(), y = hand_targets();
  expect_error([&] { ce_loss(s.reshape({6}), y); },
               "ce_loss: student logits must be (B, K) with K >= 2, got [6]");
  expect_error(
      [&] {
        soft_kd_loss(s, torch::zeros({2, 4}, torch::kDouble), y, 0.5, 2);
      },
      "soft_kd_loss: teacher logits must match the student's [2, 3], got [2, 4]");
  expect_error(
      [&] {
        dkd_loss(s, s, labels({0, 3}), DkdOptions{}, 1);
      },
      "dkd_loss: target class out of range [0, 3): 3");
  expect_error([&] { ce_loss(s, torch::zeros({2}, torch::kFloat)); },
               "ce_loss: targets must be an int64 (B) tensor with B = 2, got shape [2] and dtype "
               "Float");
  expect_error([&] { hard_kd_loss(s, s, y, 1.5); },
               "hard_kd_loss: teacher_weight must be in [0, 1], got 1.5");
  expect_error([&] { soft_kd_loss(s, s, y, 0.5, 0.0); },
               "soft_kd_loss: temperature must be positive, got 0");
  expect_error(
      [&] {
        FeatureProjector(Shape{3, 25}, Shape{5});
      },
      "FeatureProjector: student feature shape [3, 25] and teacher feature shape [5] "
      "must both be (C, L) or both (D), all sizes positive");
  FeatureProjector proj(Shape{3, 25}, Shape{5, 50});
  expect_error(
      [&] {
        proj->forward(torch::randn({2, 4, 25}));
      },
      "FeatureProjector: student feature must be (B)+[3, 25], got [2, 4, 25]");
}

}  // namespace
}  // namespace ppgkd
