// NT-Xent against hand-computed values, and the contrastive views.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "common/error.h"
#include "train/ssl.h"

namespace ppgkd {
namespace {

TEST(NtXent, IdenticalViewsClosedForm) {
  // Two windows, identical views: z = [(1,0), (0,1), (1,0), (0,1)], T = 0.5. Every anchor has
  // similarity 1 with its positive and 0 with the two other windows, so
  //   l_i = -log(e^{1/T} / (e^{1/T} + 2 e^0)) = log(1 + 2 e^{-2}) for all four anchors.
  auto z = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const double want = std::log(1 + 2 * std::exp(-2.0));
  EXPECT_NEAR(nt_xent_loss(z, z, 0.5).item<double>(), want, 1e-6);
  // Scaling the projections does not matter: they are normalised.
  EXPECT_NEAR(nt_xent_loss(3 * z, 0.5 * z, 0.5).item<double>(), want, 1e-6);
}

TEST(NtXent, AsymmetricBatchOfTwo) {
  // a0 = (1,0), a1 = (0,1) (view 1); b0 = (0.6,0.8), b1 = (0,1) (view 2); T = 1.
  // Anchor a0: positive b0 (0.6); negatives a1 (0), b1 (0):   log(1 + 2 e^{-0.6})
  // Anchor a1: positive b1 (1);   negatives a0 (0), b0 (0.8): log(1 + e^{-1} + e^{-0.2})
  // Anchor b0: positive a0 (0.6); negatives a1 (0.8), b1 (0.8): log(1 + 2 e^{0.2})
  // Anchor b1: positive a1 (1);   negatives a0 (0), b0 (0.8): log(1 + e^{-1} + e^{-0.2})
  auto z1 = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  auto z2 = torch::tensor({{0.6f, 0.8f}, {0.0f, 1.0f}});
  const double want =
      (std::log(1 + 2 * std::exp(-0.6)) + 2 * std::log(1 + std::exp(-1.0) + std::exp(-0.2)) +
       std::log(1 + 2 * std::exp(0.2))) /
      4;
  EXPECT_NEAR(nt_xent_loss(z1, z2, 1.0).item<double>(), want, 1e-6);
  // Gradients flow to both views.
  auto p1 = z1.clone().requires_grad_(true), p2 = z2.clone().requires_grad_(true);
  nt_xent_loss(p1, p2, 1.0).backward();
  EXPECT_GT(p1.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(p2.grad().abs().sum().item<double>(), 0);
}

TEST(NtXent, BadInputsRefused) {
  auto z = torch::ones({2, 3});
  EXPECT_THROW(nt_xent_loss(z, torch::ones({3, 3}), 0.1), Error);
  EXPECT_THROW(nt_xent_loss(z, z, 0.0), Error);
}

TEST(SslView, DeterministicAndShapePreserving) {
  auto x = torch::randn({5, 4, 200});
  auto a = ssl_view(x, 11), b = ssl_view(x, 11), c = ssl_view(x, 12);
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  ProjectionHead head(16, 8);
  EXPECT_EQ(head(torch::randn({3, 16})).sizes(), (std::vector<int64_t>{3, 8}));
  EXPECT_EQ(pool_embedding(torch::ones({3, 16, 50})).sizes(), (std::vector<int64_t>{3, 16}));
}

}  // namespace
}  // namespace ppgkd
