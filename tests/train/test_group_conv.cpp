// group_conv1d against libtorch's grouped convolution in double precision (the oracle: conv1d
// with groups = k, padding ks / 2, no bias, and its autograd gradients). Tolerance 1e-5 relative
// to the output scale: the direct loops sum the C * ks products in another order than libtorch's
// kernels and in float, which changes the last bits (~1e-7 relative); an off-by-one tap,
// padding, stride phase or member slice would change outputs by O(1).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/group_conv.h"

namespace ppgkd {
namespace {

constexpr double kTol = 1e-5;

struct Case {
  int64_t k, C, O, ks, stride, L, B;
};

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const char* what,
                  const Case& c) {
  const double scale = want.abs().max().item<double>() + 1e-12;
  const double err = (got.to(torch::kDouble) - want).abs().max().item<double>();
  EXPECT_LE(err, kTol * scale) << what << " k=" << c.k << " C=" << c.C << " O=" << c.O
                               << " ks=" << c.ks << " stride=" << c.stride << " L=" << c.L
                               << " B=" << c.B;
}

TEST(GroupConv, MatchesGroupedConv1dAndItsGradients) {
  torch::set_num_threads(1);
  const std::vector<Case> cases = {
      {3, 3, 3, 3, 1, 200, 5},  // r1's stem and stage 0
      {3, 3, 4, 1, 2, 50, 5},   // a strided 1x1 shortcut
      {2, 4, 6, 7, 2, 25, 5},   // r3-like, odd length, stride 2
      {2, 8, 8, 7, 1, 13, 5},   // r5's last stage: short segments
      {4, 2, 3, 5, 2, 12, 5},   // even length, stride 2
      {1, 1, 2, 3, 3, 10, 5},   // a stride the students do not use: the phases are general
      {2, 5, 3, 7, 1, 40, 37},  // the long rows span several weight-gradient chunks
      {2, 3, 2, 7, 2, 3, 4},    // fewer samples than taps
  };
  for (const auto& c : cases) {
    const int64_t B = c.B;
    torch::manual_seed(static_cast<uint64_t>(c.C * 100 + c.ks * 10 + c.stride));
    auto x = torch::randn({B, c.k * c.C, c.L});
    auto w = torch::randn({c.k, c.O, c.C, c.ks});
    // Oracle in double.
    auto xd = x.to(torch::kDouble).requires_grad_(true);
    auto wd = w.to(torch::kDouble).requires_grad_(true);
    auto yd = torch::conv1d(xd, wd.reshape({c.k * c.O, c.C, c.ks}), {}, c.stride, c.ks / 2, 1, c.k);
    auto gy = torch::randn(yd.sizes(), torch::kDouble);
    (yd * gy).sum().backward();
    // Ours in float.
    auto xf = x.clone().requires_grad_(true);
    auto wf = w.clone().requires_grad_(true);
    auto y = group_conv1d(xf, wf, c.stride);
    ASSERT_EQ(y.sizes(), yd.sizes());
    (y * gy.to(torch::kFloat)).sum().backward();
    expect_close(y.detach(), yd.detach(), "output", c);
    expect_close(xf.grad(), xd.grad(), "input gradient", c);
    expect_close(wf.grad(), wd.grad(), "weight gradient", c);
  }
}

TEST(GroupConv, NoInputGradientWhenTheInputNeedsNone) {
  auto x = torch::randn({2, 6, 20});
  auto w = torch::randn({2, 3, 3, 3}).requires_grad_(true);
  group_conv1d(x, w, 1).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_TRUE(w.grad().defined());
}

TEST(GroupConv, RefusesInputThatDoesNotFitTheWeights) {
  EXPECT_ANY_THROW(group_conv1d(torch::randn({2, 5, 20}), torch::randn({2, 3, 3, 3}), 1));
  EXPECT_ANY_THROW(group_conv1d(torch::randn({2, 6, 20}), torch::randn({2, 3, 3, 3}), 0));
  EXPECT_ANY_THROW(
      group_conv1d(torch::randn({2, 6, 20}, torch::kDouble), torch::randn({2, 3, 3, 3}), 1));
}

}  // namespace
}  // namespace ppgkd
