// batch_norm_act against libtorch's composition in double precision (the oracle: batch_norm, then
// + residual, then relu, and their autograd gradients; running statistics as BatchNorm1d updates
// them). Tolerance 1e-5 relative to each quantity's scale: the fused loops compute in float with
// double sums in another order, which changes the last bits (~1e-7 relative); a wrong variance
// (biased/unbiased), a missing mean term in the input gradient, a channel or segment offset or a
// ReLU mask on the wrong tensor would change results by O(1).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "train/group_bn.h"

namespace ppgkd {
namespace {

constexpr double kTol = 1e-5;

struct Case {
  int64_t B, Ch, L;
  bool train, residual, relu, strided;
};

std::string describe(const Case& c) {
  return "B=" + std::to_string(c.B) + " Ch=" + std::to_string(c.Ch) + " L=" + std::to_string(c.L) +
         " train=" + std::to_string(c.train) + " residual=" + std::to_string(c.residual) +
         " relu=" + std::to_string(c.relu) + " strided=" + std::to_string(c.strided);
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  // The floor: with two values per channel the output is +-1 whatever x is, so the oracle's input
  // gradient is zero up to rounding (~1e-7) and only an absolute comparison means anything.
  const double scale = std::max(want.abs().max().item<double>(), 1e-3);
  const double err = (got.to(torch::kDouble) - want).abs().max().item<double>();
  EXPECT_LE(err, kTol * scale) << what;
}

void check(const Case& c) {
  torch::manual_seed(static_cast<uint64_t>(c.B * 1000 + c.Ch * 10 + c.L));
  // Channels with their own offsets and scales, as convolution outputs have.
  auto x = torch::randn({c.B, c.Ch, c.L}) * (torch::rand({1, c.Ch, 1}) * 3 + 0.1) +
           torch::randn({1, c.Ch, 1}) * 2;
  if (c.strided)  // a view with strides: every second sample of a longer activation
    x = torch::cat({x, x}, 2).view({c.B, c.Ch, c.L, 2}).select(3, 0);
  auto w = torch::randn({c.Ch}), b = torch::randn({c.Ch});
  auto res = torch::randn({c.B, c.Ch, c.L});
  auto rm = torch::randn({c.Ch}), rv = torch::rand({c.Ch}) + 0.5;
  const double momentum = 0.1, eps = 1e-5;

  // Oracle in double.
  auto xd = x.to(torch::kDouble).requires_grad_(true);
  auto wd = w.to(torch::kDouble).requires_grad_(true);
  auto bd = b.to(torch::kDouble).requires_grad_(true);
  auto rd = res.to(torch::kDouble).requires_grad_(true);
  auto rmd = rm.to(torch::kDouble), rvd = rv.to(torch::kDouble);
  auto yd = torch::batch_norm(xd, wd, bd, rmd, rvd, c.train, momentum, eps, false);
  if (c.residual) yd = yd + rd;
  if (c.relu) yd = torch::relu(yd);
  auto gy = torch::randn(yd.sizes(), torch::kDouble);
  (yd * gy).sum().backward();

  // Ours in float.
  auto xf = x.clone().requires_grad_(true);
  auto wf = w.clone().requires_grad_(true);
  auto bf = b.clone().requires_grad_(true);
  auto rf = res.clone().requires_grad_(true);
  auto y = batch_norm_act(xf, wf, bf, rm, rv, c.train, momentum, eps,
                          c.residual ? rf : torch::Tensor(), c.relu);
  (y * gy.to(torch::kFloat)).sum().backward();

  const std::string d = describe(c);
  expect_close(y.detach(), yd.detach(), "output " + d);
  expect_close(xf.grad(), xd.grad(), "input gradient " + d);
  expect_close(wf.grad(), wd.grad(), "weight gradient " + d);
  expect_close(bf.grad(), bd.grad(), "bias gradient " + d);
  if (c.residual) expect_close(rf.grad(), rd.grad(), "residual gradient " + d);
  expect_close(rm, rmd, "running mean " + d);
  expect_close(rv, rvd, "running variance " + d);
}

TEST(GroupBatchNorm, MatchesLibtorchCompositionAndItsGradients) {
  torch::set_num_threads(1);
  // Channel counts 1..8 per member (Ch = k * C), one member (k = 1) and many, odd and even
  // lengths, a single sample per channel segment, every combination of residual and ReLU, train
  // and eval mode, and a strided (non-contiguous) input.
  std::vector<Case> cases;
  for (int64_t C = 1; C <= 8; ++C)
    for (int64_t k : {1, 3})
      cases.push_back({5, k * C, 2 * C + 1, true, C % 2 == 0, C % 3 != 0, false});
  for (bool train : {true, false})
    for (bool residual : {false, true})
      for (bool relu : {false, true}) {
        cases.push_back({4, 6, 37, train, residual, relu, false});
        cases.push_back({3, 4, 13, train, residual, relu, true});
      }
  cases.push_back({1, 3, 2, true, true, true, false});      // two values per channel
  cases.push_back({7, 2, 1, true, false, true, false});     // one sample per segment
  cases.push_back({32, 15, 200, true, true, true, false});  // r1's stem: 15 members of 3 channels
  for (const auto& c : cases) check(c);
}

TEST(GroupBatchNorm, GradientsOnlyWhereNeeded) {
  auto x = torch::randn({2, 3, 10});
  auto w = torch::randn({3}).requires_grad_(true), b = torch::randn({3});
  auto rm = torch::zeros({3}), rv = torch::ones({3});
  auto res = torch::randn({2, 3, 10});
  batch_norm_act(x, w, b, rm, rv, true, 0.1, 1e-5, res, true).sum().backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(res.grad().defined());
}

TEST(GroupBatchNorm, RefusesWhatItCannotNormalise) {
  auto rm = torch::zeros({3}), rv = torch::ones({3});
  auto w = torch::ones({3}), b = torch::zeros({3});
  // wrong channel count, double input, residual of another shape, one value per channel
  EXPECT_ANY_THROW(
      batch_norm_act(torch::randn({2, 4, 5}), w, b, rm, rv, true, 0.1, 1e-5, {}, false));
  EXPECT_ANY_THROW(batch_norm_act(torch::randn({2, 3, 5}, torch::kDouble), w, b, rm, rv, true, 0.1,
                                  1e-5, {}, false));
  EXPECT_ANY_THROW(batch_norm_act(torch::randn({2, 3, 5}), w, b, rm, rv, true, 0.1, 1e-5,
                                  torch::randn({2, 3, 4}), false));
  EXPECT_ANY_THROW(
      batch_norm_act(torch::randn({1, 3, 1}), w, b, rm, rv, true, 0.1, 1e-5, {}, false));
}

}  // namespace
}  // namespace ppgkd
